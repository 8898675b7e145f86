using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace TicketSale.Sales.Tests;

/// <summary>The door: signed ticket codes checked in by staff, each ticket admitted once, online or uploaded later.</summary>
[Collection(SaleCollection.Name)]
public sealed class CheckInTests(SaleFixture fixture, ITestOutputHelper output)
{
    private readonly WebPages _pages = new(fixture, output);

    [Fact]
    public async Task A_buyer_opens_a_tickets_qr_code_door_staff_check_it_in_and_a_second_scan_is_refused_with_the_time_of_the_first()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var (buyer, order, tickets) = await fixture.BuyTicketsAsync(campaign.Id, 3, 4);
        var staff = await fixture.NewDoorStaffAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var utc = new BrowserNewPageOptions { TimezoneId = "UTC", Locale = "en-US" };

        // The buyer's orders link each ticket to its page; the QR code drawn there reads back as the ticket's code.
        var buyerPage = await _pages.SignInAsync(browser, buyer.Email!, options: utc);
        await buyerPage.Locator("#nav-orders").ClickAsync();
        await buyerPage.Locator($"li[data-ticket-id='{tickets[0].Id}'] a.show-ticket").ClickAsync();
        await Assertions.Expect(buyerPage.Locator("#ticket .place")).ToHaveTextAsync("Main, row 1, seat 4");
        var scanned = await QrCodes.ReadAsync(buyerPage.Locator("#ticket-qr"));
        Assert.Equal(await buyerPage.Locator("#ticket-qr").GetAttributeAsync("data-code"), scanned);
        // A code of ours, asked about without admitting it: it names another event than the one the probe is for.
        var probe = await staff.PostAsync("/api/checkin", new { code = scanned, gate = "Probe", campaignId = Guid.NewGuid() });
        Assert.EndsWith("/other-campaign", (string)probe.Body!["type"]!, StringComparison.Ordinal);

        // Door staff type what the scanner read at the north gate; the south gate scans it again.
        var door = await _pages.SignInAsync(browser, staff.Email!, options: utc);
        await door.Locator("#nav-checkin").ClickAsync();
        await door.Locator("#gate").FillAsync("North");
        await door.Locator("#code").FillAsync(scanned);
        await door.Locator("#code").PressAsync("Enter");
        await Assertions.Expect(door.Locator("#scan-result")).ToHaveTextAsync("Admitted: Main, row 1, seat 4.");
        await Assertions.Expect(door.Locator("#scan-result")).ToHaveClassAsync("scan admitted");

        await door.Locator("#gate").FillAsync("South");
        await door.Locator("#code").FillAsync(scanned);
        await door.Locator("#check-in button[type=submit]").ClickAsync();
        var first = (await fixture.QueryAsync("SELECT \"CheckedInAt\" FROM \"Tickets\" WHERE \"Id\" = $1", r => r.GetFieldValue<DateTimeOffset>(0), tickets[0].Id)).Single();
        var firstAsShown = first.ToUniversalTime().ToString("MMM d, yyyy, h:mm:ss tt", CultureInfo.InvariantCulture);
        await Assertions.Expect(door.Locator("#scan-result")).ToHaveClassAsync("scan refused");
        Assert.Equal($"Already checked in at {firstAsShown} at gate North: do not admit.", (await door.Locator("#scan-result").TextContentAsync())!.Replace('\u202f', ' '));

        // The buyer's ticket page says it was used.
        await buyerPage.ReloadAsync();
        await Assertions.Expect(buyerPage.Locator("#ticket")).ToContainTextAsync("Checked in");

        // The connection drops: the page checks signatures itself, refuses a forgery and a second scan of what it
        // admitted, and uploads its scan when the connection is back.
        await door.Context.SetOfflineAsync(true);
        await door.Locator("#code").FillAsync(tickets[1].Code);
        await door.Locator("#code").PressAsync("Enter");
        await Assertions.Expect(door.Locator("#scan-result")).ToContainTextAsync("Admitted (checked offline");
        await Assertions.Expect(door.Locator("#offline-scans")).ToHaveTextAsync("1 scan made offline, not yet uploaded.");
        await door.Locator("#code").FillAsync(tickets[1].Code);
        await door.Locator("#code").PressAsync("Enter");
        await Assertions.Expect(door.Locator("#scan-result")).ToContainTextAsync("Already checked in at");
        await door.Locator("#code").FillAsync(tickets[1].Code[..^3] + (tickets[1].Code[^3] == 'A' ? "B" : "A") + tickets[1].Code[^2..]);
        await door.Locator("#code").PressAsync("Enter");
        await Assertions.Expect(door.Locator("#scan-result")).ToHaveTextAsync("Not a valid ticket (checked offline): do not admit.");
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM \"Tickets\" WHERE \"Id\" = $1 AND \"CheckedInAt\" IS NOT NULL", tickets[1].Id));

        // Back online, the page uploads by itself.
        await door.Context.SetOfflineAsync(false);
        await Assertions.Expect(door.Locator("#upload-result")).ToHaveTextAsync("Main, row 1, seat 5: admitted.", new() { Timeout = 30_000 });
        await Assertions.Expect(door.Locator("#offline-scans")).ToHaveTextAsync("None waiting to upload.");
        await Assertions.Expect(door.Locator("#upload-scans")).ToBeHiddenAsync();
        Assert.Equal("South", (await fixture.QueryAsync("SELECT \"CheckedInGate\" FROM \"Tickets\" WHERE \"Id\" = $1", r => r.GetString(0), tickets[1].Id)).Single());
        Assert.Equal(order, (await fixture.QueryAsync("SELECT \"OrderId\" FROM \"Tickets\" WHERE \"Id\" = $1", r => r.GetGuid(0), tickets[1].Id)).Single());
    }

    [Fact]
    public async Task A_hundred_gates_scanning_one_ticket_at_the_same_moment_admit_it_once_and_the_others_are_told_when_and_where()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var (_, _, tickets) = await fixture.BuyTicketsAsync(campaign.Id, 4);
        var staff = await fixture.NewDoorStaffAsync();

        using var start = new ManualResetEventSlim();
        var scans = Enumerable.Range(0, 100).Select(gate => Task.Run(async () =>
        {
            start.Wait();
            return await staff.PostAsync("/api/checkin", new { code = tickets[0].Code, gate = $"Gate {gate}" });
        })).ToList();
        start.Set();
        var answers = await Task.WhenAll(scans);

        var admitted = Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
        Assert.Equal("Admitted", (string)admitted.Body!["outcome"]!);
        Assert.Equal("Main, row 1, seat 5", (string)admitted.Body!["place"]!);
        var refused = answers.Where(a => a != admitted).ToList();
        Assert.All(refused, a => Assert.Equal(HttpStatusCode.Conflict, a.Status));
        Assert.All(refused, a => Assert.EndsWith("/already-checked-in", (string)a.Body!["type"]!, StringComparison.Ordinal));
        // Every refusal names the one admission: its time and its gate.
        Assert.Single(refused.Select(a => ((string)a.Body!["checkedInAt"]!, (string)a.Body!["gate"]!)).Distinct());
        Assert.Equal((string)admitted.Body!["gate"]!, (string)refused[0].Body!["gate"]!);
        Assert.Equal(DateTimeOffset.Parse((string)admitted.Body!["checkedInAt"]!, System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.Parse((string)refused[0].Body!["checkedInAt"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM \"Tickets\" WHERE \"Id\" = $1 AND \"CheckedInAt\" IS NOT NULL", tickets[0].Id));

        // Every scan is a line of the audit log: one admission, 99 refusals.
        await Eventually.HoldsAsync(async () => await fixture.ScalarAsync(
            "SELECT count(*) FROM \"AuditEntries\" WHERE \"Action\" = 'check-in' AND \"SubjectId\" = $1", tickets[0].Id) == 100, "100 check-in entries");
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM \"AuditEntries\" WHERE \"Action\" = 'check-in' AND \"SubjectId\" = $1 AND \"Detail\" LIKE '%: Admitted'", tickets[0].Id));
    }

    [Fact]
    public async Task A_forged_or_altered_code_a_cancelled_ticket_and_a_customer_at_the_door_are_refused()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var (buyer, order, tickets) = await fixture.BuyTicketsAsync(campaign.Id, 1, 2);
        var staff = await fixture.NewDoorStaffAsync();
        var code = tickets[0].Code;

        var altered = await staff.PostAsync("/api/checkin", new { code = code[..^2] + (code[^2] == 'A' ? "B" : "A") + code[^1], gate = "A" });
        Assert.Equal(HttpStatusCode.BadRequest, altered.Status);
        Assert.NotNull(altered.Body!["errors"]!["code"]);
        Assert.Equal(HttpStatusCode.BadRequest, (await staff.PostAsync("/api/checkin", new { code = "TS1.not-a-ticket.at-all", gate = "A" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await staff.PostAsync("/api/checkin", new { code, gate = "" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await buyer.PostAsync("/api/checkin", new { code, gate = "A" })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Anonymous().PostAsync("/api/checkin", new { code, gate = "A" })).Status);

        // A ticket for another event is not admitted at this one's gates.
        var other = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 2);
        var elsewhere = await staff.PostAsync("/api/checkin", new { code, gate = "A", campaignId = other.Id });
        Assert.Equal(HttpStatusCode.Conflict, elsewhere.Status);
        Assert.EndsWith("/other-campaign", (string)elsewhere.Body!["type"]!, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await buyer.PostAsync($"/api/orders/{order}/cancel", null)).Status);
        var cancelled = await staff.PostAsync("/api/checkin", new { code, gate = "A" });
        Assert.Equal(HttpStatusCode.Conflict, cancelled.Status);
        Assert.EndsWith("/ticket-cancelled", (string)cancelled.Body!["type"]!, StringComparison.Ordinal);
        // The buyer's page no longer shows a code for it.
        Assert.Null((await buyer.GetAsync($"/api/orders/{order}/tickets/{tickets[0].Id}")).Body!["code"]);
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM \"Tickets\" WHERE \"OrderId\" = $1 AND \"CheckedInAt\" IS NOT NULL", order));
    }

    [Fact]
    public async Task Scans_made_offline_are_uploaded_with_their_time_a_ticket_two_gates_admitted_offline_counts_once_and_the_dashboard_counts_check_ins()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var (_, _, tickets) = await fixture.BuyTicketsAsync(campaign.Id, 0, 1, 2);
        var staff = await fixture.NewDoorStaffAsync();
        var earlier = DateTimeOffset.UtcNow.AddMinutes(-20);
        var online = await staff.PostAsync("/api/checkin", new { code = tickets[2].Code, gate = "Main door" });
        Assert.Equal(HttpStatusCode.OK, online.Status);

        var upload = await staff.PostAsync("/api/checkin/scans", new
        {
            scans = new object[]
            {
                new { code = tickets[0].Code, gate = "North", scannedAt = earlier },
                new { code = tickets[1].Code, gate = "North", scannedAt = earlier.AddSeconds(5) },
                // South admitted the same ticket offline a minute later: only the first upload of it counts.
                new { code = tickets[0].Code, gate = "South", scannedAt = earlier.AddMinutes(1) },
                // Checked in online earlier today at the main door.
                new { code = tickets[2].Code, gate = "South", scannedAt = earlier },
                new { code = "TS1.forged.code", gate = "South", scannedAt = earlier },
            },
        });

        Assert.Equal(HttpStatusCode.OK, upload.Status);
        var results = upload.Body!["results"]!.AsArray().Select(r => (string)r!["outcome"]!).ToList();
        Assert.Equal(["Admitted", "Admitted", "AlreadyCheckedIn", "AlreadyCheckedIn", "InvalidCode"], results);
        var first = upload.Body!["results"]![2]!;
        Assert.Equal("North", (string)first["gate"]!);
        Assert.Equal(earlier.ToUnixTimeSeconds(), DateTimeOffset.Parse((string)first["checkedInAt"]!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds());

        // A scan from the future, or without its time, is refused with the whole upload, before anything is recorded.
        var future = await staff.PostAsync("/api/checkin/scans", new { scans = new[] { new { code = tickets[0].Code, gate = "North", scannedAt = DateTimeOffset.UtcNow.AddHours(1) } } });
        Assert.Equal(HttpStatusCode.BadRequest, future.Status);
        Assert.NotNull(future.Body!["errors"]!["scans[0].scannedAt"]);
        var timeless = await staff.PostAsync("/api/checkin/scans", new { scans = new object[] { new { code = tickets[0].Code, gate = "North", scannedAt = earlier }, new { code = tickets[1].Code, gate = "North" } } });
        Assert.Equal(HttpStatusCode.BadRequest, timeless.Status);
        Assert.NotNull(timeless.Body!["errors"]!["scans[1].scannedAt"]);

        // The dashboard reads the standby, which may trail by its lag.
        JsonNode? dashboard = null;
        await Eventually.HoldsAsync(async () => (int)(dashboard = (await fixture.Admin.GetAsync($"/api/admin/campaigns/{campaign.Id}/dashboard")).Body!)["ticketsCheckedIn"]! == 3,
            "the dashboard to count 3 check-ins");
        Assert.Equal(3, (int)dashboard!["ticketsSold"]!);
    }

    [Fact]
    public async Task Scanners_get_the_public_keys_without_signing_in_and_the_private_key_is_not_among_them()
    {
        var keys = await fixture.Anonymous().GetAsync("/api/tickets/keys");

        Assert.Equal(HttpStatusCode.OK, keys.Status);
        var key = Assert.Single(keys.Body!["keys"]!.AsArray())!;
        Assert.Equal(16, ((string)key["id"]!).Length);
        using var ecdsa = System.Security.Cryptography.ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String((string)key["publicKey"]!), out _);
        Assert.DoesNotContain(fixture.App.GetParameterValue("ticket-signing-key"), keys.Text, StringComparison.Ordinal);
        Assert.Equal(2, ((JsonObject)key).Count);
    }
}
