using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace TicketSale.Sales.Tests;

/// <summary>The campaign page in a real browser, through the gateway, signed in with a cookie session: the waiting room and buying.</summary>
[Collection(SaleCollection.Name)]
public sealed partial class BrowserPurchaseTests(SaleFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);
    private readonly WebPages _pages = new(fixture, output);

    [Fact]
    public async Task A_buyer_waits_in_line_seeing_their_position_then_holds_with_the_admission_and_buys()
    {
        // One admission a second and ten visitors ahead: the buyer waits in line for several seconds.
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10, waitingRoom: true,
            admissionsPerSecond: 1, paceByStock: false);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var (buyer, page, shown) = await JoinBehindAsync(browser, campaign, ahead: 10, PositionText());
        Assert.InRange(int.Parse(shown.Groups["position"].Value, System.Globalization.CultureInfo.InvariantCulture), 1, 10);

        // The turn comes, the page offers the tickets, holds with the admission token (a hold without one is refused)
        // and offers to pay.
        await page.Locator("button.hold-ga").ClickAsync(new() { Timeout = (float)s_wait.TotalMilliseconds });
        await page.Locator("#buy").ClickAsync(new() { Timeout = (float)s_wait.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("Confirmed: order", new() { Timeout = (float)s_wait.TotalMilliseconds });

        Assert.Equal(1, await fixture.ScalarAsync(
            "SELECT count(*) FROM \"Orders\" o JOIN \"Users\" u ON u.\"Id\" = o.\"UserId\" WHERE u.\"Email\" = $1 AND o.\"CampaignId\" = $2 AND o.\"Status\" = 'Confirmed'",
            buyer.Email!, campaign.Id));
        Assert.Equal(9, await GeneralAdmissionLeftAsync(campaign));
    }

    [Fact]
    public async Task Before_the_opening_the_page_shows_when_the_sale_opens_but_not_where_the_draw_put_the_buyer_then_buys()
    {
        // Twenty visitors drew before the buyer; the sale opens once the browser is surely up (it took 13 s to get to
        // the page in a run where this test came first), five admissions a second.
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 30, waitingRoom: true,
            opensAt: DateTimeOffset.UtcNow.AddSeconds(30), admissionsPerSecond: 5, paceByStock: false);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var (_, page, shown) = await JoinBehindAsync(browser, campaign, ahead: 20, PreQueueText());
        Assert.InRange(int.Parse(shown.Groups["opens"].Value, System.Globalization.CultureInfo.InvariantCulture), 1, 30);
        Assert.DoesNotMatch(@"number \d", await page.Locator("#queue").InnerTextAsync());

        // The page comes back when the turn is due and buys.
        await page.Locator("button.hold-ga").ClickAsync(new() { Timeout = (float)s_wait.TotalMilliseconds });
        await page.Locator("#buy").ClickAsync(new() { Timeout = (float)s_wait.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("Confirmed: order", new() { Timeout = (float)s_wait.TotalMilliseconds });
        Assert.Equal(29, await GeneralAdmissionLeftAsync(campaign));
    }

    [Fact]
    public async Task Without_a_waiting_room_the_page_holds_the_best_seat_still_free_and_buys_it()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 4);
        var other = await fixture.NewCustomerAsync();
        Assert.Equal(HttpStatusCode.Created, (await other.HoldSeatsAsync(campaign.Id, 0, 2)).Status);

        var buyer = await fixture.NewCustomerAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await _pages.SignInAsync(browser, buyer.Email!);
        await WebPages.GoToCampaignAsync(page, campaign.Id);
        var holdRequests = 0;
        page.Request += (_, request) => holdRequests += request.Method == "POST" && request.Url.EndsWith("/holds", StringComparison.Ordinal) ? 1 : 0;

        // Read from the seat map, not found by trying: one hold request, for the first seat free (index 1: seat 2).
        await page.Locator("#best-available").ClickAsync();
        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("Main, row 1, seat 2 is yours", new() { Timeout = 10_000 });
        Assert.Equal(1, holdRequests);
        Assert.True(await page.Locator("#queue").IsHiddenAsync());
        await page.Locator("#buy").ClickAsync();
        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("Confirmed: order", new() { Timeout = (float)s_wait.TotalMilliseconds });

        Assert.Equal(1, await fixture.ScalarAsync(
            "SELECT count(*) FROM \"Tickets\" t JOIN \"Orders\" o ON o.\"Id\" = t.\"OrderId\" JOIN \"Users\" u ON u.\"Id\" = o.\"UserId\" WHERE u.\"Email\" = $1 AND o.\"CampaignId\" = $2 AND t.\"SeatIndex\" = 1",
            buyer.Email!, campaign.Id));
    }

    [Fact]
    public async Task Closing_the_page_once_admitted_stops_counting_the_visitor_as_shopping_and_keeps_their_admission()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10, waitingRoom: true,
            admissionsPerSecond: 5, paceByStock: true);
        var buyer = await fixture.NewCustomerAsync();
        var userId = (await fixture.QueryAsync("SELECT \"Id\" FROM \"Users\" WHERE \"Email\" = $1", r => r.GetGuid(0), buyer.Email!)).Single();
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var shopping = $"ts:{{{campaign.Id:N}}}:wr:shop";

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await _pages.SignInAsync(browser, buyer.Email!);
        await WebPages.GoToCampaignAsync(page, campaign.Id, withSeatMap: false);
        await page.Locator("#join").ClickAsync();
        await page.Locator("button.hold-ga").ClickAsync(new() { Timeout = (float)s_wait.TotalMilliseconds });
        await page.Locator("#buy").WaitForAsync(new() { Timeout = (float)s_wait.TotalMilliseconds });
        Assert.NotNull(await redis.GetDatabase().SortedSetScoreAsync(shopping, userId.ToString("N")));

        // Well within the shopping window (SaleFixture.ShoppingWindow, 8 s), which would end it anyway.
        await page.CloseAsync(new() { RunBeforeUnload = true });
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (await redis.GetDatabase().SortedSetScoreAsync(shopping, userId.ToString("N")) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Null(await redis.GetDatabase().SortedSetScoreAsync(shopping, userId.ToString("N")));
        // Gone away, not left: a reload or a return within the admission buys on.
        Assert.NotNull(await redis.GetDatabase().SortedSetScoreAsync($"ts:{{{campaign.Id:N}}}:wr:out", userId.ToString("N")));
    }

    /// <summary>
    /// Visitors join the waiting room ahead of a new buyer, who then asks for tickets in the browser; returns what the
    /// page says of the buyer's place once it reads like <paramref name="text"/>.
    /// </summary>
    private async Task<(ApiClient Buyer, IPage Page, Match Shown)> JoinBehindAsync(IBrowser browser, Campaign campaign, int ahead, Regex text)
    {
        var room = $"/api/campaigns/{campaign.Id}/waiting-room";
        foreach (var visitor in Enumerable.Range(0, ahead).Select(_ => fixture.MintCustomer(Guid.NewGuid())))
        {
            Assert.Equal(HttpStatusCode.OK, (await visitor.PostAsync(room, null)).Status);
        }

        var buyer = await fixture.NewCustomerAsync();
        var page = await _pages.SignInAsync(browser, buyer.Email!);
        await WebPages.GoToCampaignAsync(page, campaign.Id, withSeatMap: false);
        await page.Locator("#join").ClickAsync();
        var queue = page.Locator("#queue");
        await Assertions.Expect(queue).ToContainTextAsync(text, new() { Timeout = 10_000 });
        var shown = text.Match((await queue.TextContentAsync())!);
        output.WriteLine($"shown: {shown.Value}");
        return (buyer, page, shown);
    }

    private async Task<long> GeneralAdmissionLeftAsync(Campaign campaign)
    {
        var seats = await fixture.Anonymous().GetAsync($"/api/campaigns/{campaign.Id}/seats");
        return (long)seats.Body!["generalAdmission"]![0]!["left"]!;
    }

    [GeneratedRegex(@"You are number (?<position>\d+) in line")]
    private static partial Regex PositionText();

    [GeneratedRegex(@"The sale opens in (?<opens>\d+) s\. Places in line are drawn at random among everyone who arrived before the opening; you will see yours once it opens\.")]
    private static partial Regex PreQueueText();
}
