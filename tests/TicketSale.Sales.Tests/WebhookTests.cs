using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace TicketSale.Sales.Tests;

/// <summary>Organizers' webhooks: signed, retried with backoff, each event received once, dead letters kept and sent again.</summary>
[Collection(SaleCollection.Name)]
public sealed class WebhookTests(SaleFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);
    private readonly WebPages _pages = new(fixture, output);

    [Fact]
    public async Task A_receiver_that_fails_three_times_then_succeeds_receives_each_event_once_signed()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 6);
        await using var receiver = new WebhookReceiver { FailuresLeft = 3 };
        var (id, secret) = await SubscribeAsync(receiver, campaign.Id, "order.placed", "order.confirmed", "order.cancelled", "ticket.checked-in");

        // A first order, one of its tickets checked in; a second order, cancelled: six events.
        var (_, first, tickets) = await fixture.BuyTicketsAsync(campaign.Id, 0, 1);
        var staff = await fixture.NewDoorStaffAsync();
        Assert.Equal(HttpStatusCode.OK, (await staff.PostAsync("/api/checkin", new { code = tickets[0].Code, gate = "North" })).Status);
        var (buyer, second, _) = await fixture.BuyTicketsAsync(campaign.Id, 4);
        Assert.Equal(HttpStatusCode.OK, (await buyer.PostAsync($"/api/orders/{second}/cancel", null)).Status);

        var expected = new[] { ("order.placed", first), ("order.confirmed", first), ("ticket.checked-in", first), ("order.placed", second), ("order.confirmed", second), ("order.cancelled", second) };
        await Eventually.HoldsAsync(() => Task.FromResult(receiver.Accepted.Count >= expected.Length), "every event to be received", s_wait);
        // Whatever else is still retried would arrive within the doubling waits of the test's Worker: wait for the log to settle.
        await Eventually.HoldsAsync(async () => (await DeliveriesAsync(id)).All(d => (string)d!["status"]! == "Delivered"), "every delivery to be marked delivered", s_wait);

        var accepted = receiver.Accepted.ToList();
        Assert.Equal(expected.Length, accepted.Count);
        Assert.Equal(expected.Length, accepted.Select(r => r.EventId).Distinct().Count());
        Assert.Equal(expected.Select(e => $"{e.Item1} {e.Item2}").Order(),
            accepted.Select(r => $"{(string)r.Body["type"]!} {(string)r.Body["data"]!["orderId"]!}").Order());
        Assert.Equal(tickets[0].Id.ToString(), (string)accepted.Single(r => (string)r.Body["type"]! == "ticket.checked-in").Body["data"]!["ticketId"]!);
        // Every request, refused ones too, is signed with the subscription's secret over its id, time and body.
        Assert.Equal(expected.Length + 3, receiver.All.Count);
        Assert.All(receiver.All, r => Assert.True(r.SignedWith(secret), $"{r.EventId}: a valid signature"));
        Assert.All(receiver.All, r => Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - r.Timestamp, 0, 300));

        // The delivery log: every attempt, the three answered 500 among them, each delivery's last one answered 200.
        var deliveries = await DeliveriesAsync(id);
        Assert.Equal(expected.Length, deliveries.Count);
        Assert.Equal(expected.Length + 3, deliveries.Sum(d => (int)d!["attempts"]!));
        var attempts = deliveries.Select(d => d!["attemptLog"]!.AsArray().Select(a => (int)a!["statusCode"]!).ToList()).ToList();
        Assert.Equal(3, attempts.Sum(a => a.Count(s => s == 500)));
        Assert.All(attempts, a => Assert.Equal(200, a[^1]));
        Assert.Contains(deliveries, d => (int)d!["attempts"]! > 1 && d["lastStatusCode"]!.GetValue<int>() == 200);
    }

    [Fact]
    public async Task A_delivery_that_keeps_failing_is_dead_lettered_and_sent_again_on_request()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 5);
        await using var receiver = new WebhookReceiver { FailuresLeft = int.MaxValue };
        var (id, secret) = await SubscribeAsync(receiver, campaign.Id, "order.confirmed");
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 1);
        var (_, order, _) = await buyer.PurchaseAsync(campaign.Id, hold!.Value);

        // The test's Worker gives up after four attempts.
        await Eventually.HoldsAsync(async () => await DeliveriesAsync(id, "DeadLettered") is [_], "the delivery to be dead-lettered", s_wait);
        var dead = (await DeliveriesAsync(id, "DeadLettered")).Single()!;
        Assert.Equal(4, (int)dead["attempts"]!);
        Assert.Equal(4, receiver.All.Count);
        Assert.Empty(receiver.Accepted);

        receiver.FailuresLeft = 0;
        var again = await fixture.Admin.PostAsync($"/api/admin/webhooks/deliveries/{(long)dead["id"]!}/redeliver", null);
        Assert.Equal(HttpStatusCode.Accepted, again.Status);
        await Eventually.HoldsAsync(() => Task.FromResult(receiver.Accepted.Count == 1), "the dead letter to be delivered", s_wait);
        var delivered = Assert.Single(receiver.Accepted);
        Assert.True(delivered.SignedWith(secret));
        Assert.Equal(order.ToString(), (string)delivered.Body["data"]!["orderId"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Admin.PostAsync($"/api/admin/webhooks/deliveries/{(long)dead["id"]!}/redeliver", null)).Status);

        // Unsubscribed, it gets nothing more.
        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Admin.SendAsync(HttpMethod.Delete, $"/api/admin/webhooks/{id}", null)).Status);
        Assert.DoesNotContain((await fixture.Admin.GetAsync("/api/admin/webhooks")).Body!.AsArray(), w => (string)w!["id"]! == id.ToString());
    }

    [Fact]
    public async Task An_organizer_subscribes_in_the_console_reads_the_delivery_log_and_sends_a_dead_letter_again()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 5);
        await using var receiver = new WebhookReceiver { FailuresLeft = int.MaxValue };
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await _pages.SignInAsAdminAsync(browser);
        await page.Locator("a[href='#/admin/webhooks']").ClickAsync();
        await page.Locator("#webhook-url").FillAsync(receiver.Endpoint.ToString());
        await page.Locator("#webhook-campaign").FillAsync(campaign.Id.ToString());
        foreach (var other in new[] { "order.placed", "order.cancelled", "ticket.checked-in" })
        {
            await page.Locator($"[id='webhook-event-{other}']").UncheckAsync();
        }

        await page.Locator("#webhook-new button[type=submit]").ClickAsync();
        var row = page.Locator("#webhooks tr", new() { HasText = receiver.Endpoint.ToString() });
        await Assertions.Expect(row).ToContainTextAsync("order.confirmed");
        await Assertions.Expect(row.Locator("code.secret")).ToContainTextAsync("whsec_");
        var secret = await row.Locator("code.secret").InnerTextAsync();

        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 1);
        await buyer.PurchaseAsync(campaign.Id, hold!.Value);
        await Eventually.HoldsAsync(() => Task.FromResult(receiver.All.Count == 4), "four failed attempts", s_wait);

        // The log shows the dead letter; sent again from the page, it is delivered.
        await Eventually.HoldsAsync(async () =>
        {
            await row.Locator("button.show-log").ClickAsync();
            return await page.Locator("#webhook-deliveries tr[data-status='DeadLettered']").CountAsync() == 1;
        }, "the log to show the dead letter", s_wait);
        await Assertions.Expect(page.Locator("#webhook-deliveries tr[data-status='DeadLettered']")).ToContainTextAsync("500");
        receiver.FailuresLeft = 0;
        await page.Locator("#webhook-deliveries button.redeliver").ClickAsync();
        await Eventually.HoldsAsync(() => Task.FromResult(receiver.Accepted.Count == 1), "the dead letter to be delivered", s_wait);
        Assert.True(receiver.Accepted.Single().SignedWith(secret));
        await Eventually.HoldsAsync(async () =>
        {
            await row.Locator("button.show-log").ClickAsync();
            return await page.Locator("#webhook-deliveries tr[data-status='Delivered']").CountAsync() == 1;
        }, "the log to show it delivered", s_wait);
        await WebPages.ScreenshotAsync(page, "admin-webhooks");
    }

    [Fact]
    public async Task A_subscription_needs_an_http_address_and_known_events_and_an_organizer()
    {
        foreach (var (body, field) in new (object, string)[]
        {
            (new { url = "ftp://example.com/hook", events = new[] { "order.placed" } }, "Url"),
            (new { url = "/relative", events = new[] { "order.placed" } }, "Url"),
            (new { url = "http://127.0.0.1:9/hook", events = new[] { "order.shipped" } }, "Events"),
            (new { url = "http://127.0.0.1:9/hook", events = Array.Empty<string>() }, "Events"),
            (new { url = "http://127.0.0.1:9/hook", events = new[] { "order.placed" }, campaignId = Guid.NewGuid() }, "CampaignId"),
        })
        {
            var refused = await fixture.Admin.PostAsync("/api/admin/webhooks", body);
            Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
            Assert.Contains(((JsonObject)refused.Body!["errors"]!).Select(e => e.Key), k => string.Equals(k, field, StringComparison.OrdinalIgnoreCase));
        }

        var customer = await fixture.NewCustomerAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync("/api/admin/webhooks")).Status);
    }

    private async Task<(Guid Id, string Secret)> SubscribeAsync(WebhookReceiver receiver, Guid campaign, params string[] events)
    {
        var created = await fixture.Admin.PostAsync("/api/admin/webhooks", new { url = receiver.Endpoint.ToString(), events, campaignId = campaign });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.StartsWith("whsec_", (string)created.Body!["secret"]!, StringComparison.Ordinal);
        return (Guid.Parse((string)created.Body!["id"]!), (string)created.Body!["secret"]!);
    }

    private async Task<List<JsonNode?>> DeliveriesAsync(Guid subscription, string? status = null)
    {
        var log = await fixture.Admin.GetAsync($"/api/admin/webhooks/{subscription}/deliveries" + (status is null ? "" : $"?status={status}"));
        Assert.Equal(HttpStatusCode.OK, log.Status);
        return [.. log.Body!.AsArray()];
    }

    /// <summary>One request as the receiver got it.</summary>
    private sealed record Received(string EventId, long Timestamp, string Signature, string Text, JsonNode Body)
    {
        public bool SignedWith(string secret) =>
            Signature.Split(' ').Contains("v1," + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]),
                Encoding.UTF8.GetBytes($"{EventId}.{Timestamp.ToString(CultureInfo.InvariantCulture)}.{Text}"))));
    }

    /// <summary>An organizer's endpoint that answers 500 while it has failures left, and keeps what it received.</summary>
    private sealed class WebhookReceiver() : LoopbackReceiver("/hooks/")
    {
        private int _failuresLeft;

        public int FailuresLeft
        {
            get => Volatile.Read(ref _failuresLeft);
            set => Volatile.Write(ref _failuresLeft, value);
        }

        public ConcurrentQueue<Received> All { get; } = new();

        /// <summary>The requests answered 200.</summary>
        public ConcurrentQueue<Received> Accepted { get; } = new();

        protected override async Task HandleAsync(HttpListenerContext context)
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            var received = new Received(context.Request.Headers["webhook-id"] ?? "", long.Parse(context.Request.Headers["webhook-timestamp"] ?? "0", CultureInfo.InvariantCulture),
                context.Request.Headers["webhook-signature"] ?? "", text, JsonNode.Parse(text)!);
            All.Enqueue(received);
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                context.Response.StatusCode = 500;
                return;
            }

            Accepted.Enqueue(received);
            context.Response.StatusCode = 200;
        }
    }
}
