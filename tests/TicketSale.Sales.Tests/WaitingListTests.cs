using System.Net;
using System.Text.Json.Nodes;
using StackExchange.Redis;

namespace TicketSale.Sales.Tests;

/// <summary>
/// A sold-out campaign's waiting list: tickets that come back (cancellations, released and expired holds, failed
/// purchases) are offered to its buyers in the order they joined, each buyer once, as holds of their own.
/// </summary>
[Collection(SaleCollection.Name)]
public sealed class WaitingListTests(SaleFixture fixture)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Seats_released_by_cancellations_reach_waiting_list_buyers_in_order_and_nobody_is_offered_twice()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 6, holdSeconds: 300);
        var orders = await Task.WhenAll(new[] { new[] { 0, 1 }, [2, 3], [4, 5] }.Select(seats => fixture.BuyTicketsAsync(campaign.Id, seats)));

        // Eight buyers join one after the other: their order is the list's.
        var waiters = await fixture.NewCustomersAsync(8);
        foreach (var (waiter, i) in waiters.Select((w, i) => (w, i)))
        {
            var joined = await JoinAsync(waiter, campaign.Id, 1);
            Assert.Equal(HttpStatusCode.Created, joined.Status);
            Assert.Equal(i + 1, (long)joined.Body!["entry"]!["place"]!);
        }

        // While buyers wait, tickets that come back are theirs: the public is turned to the list.
        var latecomer = await fixture.NewCustomerAsync();
        var refused = await latecomer.HoldSeatsAsync(campaign.Id, 0);
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.EndsWith("/waiting-list", (string)refused.Body!["type"]!, StringComparison.Ordinal);

        // Three orders cancelled at once: six seats back.
        var cancelled = await Task.WhenAll(orders.Select(o => o.Buyer.PostAsync($"/api/orders/{o.OrderId}/cancel", null)));
        Assert.All(cancelled, c => Assert.Equal(HttpStatusCode.OK, c.Status));
        await Eventually.HoldsAsync(async () => await OfferedCountAsync(campaign.Id) == 6, "six offers", s_wait);

        // The first six, in order, one seat each and no seat twice; the last two still wait, now first and second.
        var views = await Task.WhenAll(waiters.Select(w => ViewAsync(w, campaign.Id)));
        Assert.All(views.Take(6), v => Assert.Equal("Offered", (string)v["entry"]!["status"]!));
        Assert.Equal(["Waiting", "Waiting"], views.Skip(6).Select(v => (string)v["entry"]!["status"]!));
        Assert.Equal([1L, 2L], views.Skip(6).Select(v => (long)v["entry"]!["place"]!));
        var offeredSeats = views.Take(6).SelectMany(v => v["entry"]!["offer"]!["seats"]!.AsArray().Select(s => (int)s!)).ToList();
        Assert.Equal([0, 1, 2, 3, 4, 5], offeredSeats.Order());
        var offeredInOrder = await fixture.QueryAsync(
            "SELECT \"Position\" FROM \"WaitingListEntries\" WHERE \"CampaignId\" = $1 AND \"Status\" = 'Offered' ORDER BY \"OfferedAt\", \"Position\"",
            r => r.GetInt64(0), campaign.Id);
        Assert.Equal(offeredInOrder.Order(), offeredInOrder);
        Assert.Equal(HttpStatusCode.Conflict, (await latecomer.HoldSeatsAsync(campaign.Id, 0)).Status);

        // The first buys what was offered; the second lets it go, and its seat goes to the next in line.
        var first = views[0]["entry"]!["offer"]!;
        var (accepted, purchase, _) = await waiters[0].PurchaseAsync(campaign.Id, Guid.Parse((string)first["holdId"]!));
        Assert.Equal(HttpStatusCode.Accepted, accepted);
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase!.Value], s_wait))[purchase.Value]);
        var second = views[1]["entry"]!["offer"]!;
        Assert.Equal(HttpStatusCode.NoContent, (await waiters[1].DeleteAsync($"/api/campaigns/{campaign.Id}/holds/{second["holdId"]}")).Status);
        await Eventually.HoldsAsync(async () => await OfferedCountAsync(campaign.Id) == 7, "the seventh offer", s_wait);
        var seventh = (await ViewAsync(waiters[6], campaign.Id))["entry"]!;
        Assert.Equal("Offered", (string)seventh["status"]!);
        Assert.Equal((int)second["seats"]![0]!, (int)seventh["offer"]!["seats"]![0]!);
        Assert.Equal(1L, (long)(await ViewAsync(waiters[7], campaign.Id))["entry"]!["place"]!);
        Assert.Equal("Bought", (string)(await ViewAsync(waiters[0], campaign.Id))["entry"]!["status"]!);

        // Each entry offered once, each buyer told once.
        Assert.Equal(0, await fixture.ScalarAsync(
            "SELECT count(*) FROM (SELECT \"OrderId\" FROM \"OutboxMessages\" WHERE \"CampaignId\" = $1 AND \"Type\" = 'waitinglist.offered' GROUP BY 1 HAVING count(*) > 1) twice",
            campaign.Id));
        Assert.Equal(7, await fixture.ScalarAsync("SELECT count(*) FROM \"OutboxMessages\" WHERE \"CampaignId\" = $1 AND \"Type\" = 'waitinglist.offered'", campaign.Id));
        var mail = await fixture.Mailbox.WaitForAsync(waiters[6].Email!, m => m.Subject?.Contains("held for you", StringComparison.Ordinal) == true, s_wait);
        Assert.Single(mail);
        Assert.Contains($"/#/campaigns/{campaign.Id}", mail[0].TextBody ?? "", StringComparison.Ordinal);
        await Invariants.AssertAllAsync(fixture, campaign, [purchase.Value, .. orders.Select(o => o.OrderId)]);
    }

    [Fact]
    public async Task General_admission_from_an_expired_hold_and_a_failed_purchase_goes_down_the_list_and_then_back_on_sale()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 3, holdSeconds: 12);
        var category = campaign.GeneralAdmissionId!.Value;
        var holder = await fixture.NewCustomerAsync();
        Assert.Equal(HttpStatusCode.Created, (await holder.HoldGeneralAdmissionAsync(campaign.Id, category, 3)).Status);
        var (first, second, third) = (await fixture.NewCustomerAsync(), await fixture.NewCustomerAsync(), await fixture.NewCustomerAsync());
        Assert.Equal(HttpStatusCode.Created, (await JoinAsync(first, campaign.Id, 2, category)).Status);
        Assert.Equal(HttpStatusCode.Created, (await JoinAsync(second, campaign.Id, 1, category)).Status);
        Assert.Equal(HttpStatusCode.Created, (await JoinAsync(third, campaign.Id, 2, category)).Status);

        // The hold lapses: its three tickets go to the first two buyers waiting, two and one; the third waits.
        await Eventually.HoldsAsync(async () => await OfferedCountAsync(campaign.Id) == 2, "two offers", s_wait);
        Assert.Equal(1L, (long)(await ViewAsync(third, campaign.Id))["entry"]!["place"]!);
        var offer = (await ViewAsync(first, campaign.Id))["entry"]!["offer"]!;
        Assert.Equal(2, (int)offer["quantity"]!);

        // The first's purchase fails (the gateway takes a cent too much, and it is refunded): its two tickets go to the third.
        using var payments = fixture.Payments();
        await payments.SetAsync(overchargeCents: 1);
        Guid purchase;
        try
        {
            var (accepted, id, _) = await first.PurchaseAsync(campaign.Id, Guid.Parse((string)offer["holdId"]!));
            Assert.Equal(HttpStatusCode.Accepted, accepted);
            purchase = id!.Value;
            Assert.Equal("Failed", (await fixture.WaitForOutcomesAsync([purchase], s_wait))[purchase]);
        }
        finally
        {
            await payments.SetAsync();
        }

        await Eventually.HoldsAsync(async () => await OfferedCountAsync(campaign.Id) == 3, "the third's offer", s_wait);
        Assert.Equal("Expired", (string)(await ViewAsync(first, campaign.Id))["entry"]!["status"]!);
        var thirds = (await ViewAsync(third, campaign.Id))["entry"]!["offer"]!;
        Assert.Equal(2, (int)thirds["quantity"]!);

        // The third lets it go: with nobody left waiting, the tickets are on sale to anyone again.
        Assert.Equal(HttpStatusCode.NoContent, (await third.DeleteAsync($"/api/campaigns/{campaign.Id}/holds/{thirds["holdId"]}")).Status);
        var anyone = await fixture.NewCustomerAsync();
        Assert.Equal(HttpStatusCode.Created, (await anyone.HoldGeneralAdmissionAsync(campaign.Id, category, 2)).Status);
        await Invariants.AssertAllAsync(fixture, campaign, [purchase]);
    }

    [Fact]
    public async Task Joining_is_once_per_buyer_for_what_is_sold_out_and_a_buyer_may_leave()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 2, perUserLimit: 2);
        var buyer = await fixture.NewCustomerAsync();

        var available = await JoinAsync(buyer, campaign.Id, 1);
        Assert.Equal(HttpStatusCode.Conflict, available.Status);
        Assert.EndsWith("/tickets-available", (string)available.Body!["type"]!, StringComparison.Ordinal);
        await fixture.BuyTicketsAsync(campaign.Id, 0, 1);

        foreach (var (quantity, category, field) in new (int, Guid?, string)[] { (0, null, "quantity"), (3, null, "quantity"), (1, Guid.NewGuid(), "generalAdmissionCategoryId") })
        {
            var invalid = await JoinAsync(buyer, campaign.Id, quantity, category);
            Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
            Assert.NotNull(invalid.Body!["errors"]![field]);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await JoinAsync(buyer, Guid.NewGuid(), 1)).Status);

        // Twenty joins of one buyer at once: one place.
        var joins = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => JoinAsync(buyer, campaign.Id, 1)));
        Assert.Single(joins, j => j.Status == HttpStatusCode.Created);
        Assert.All(joins.Where(j => j.Status != HttpStatusCode.Created), j =>
        {
            Assert.Equal(HttpStatusCode.Conflict, j.Status);
            Assert.EndsWith("/already-on-waiting-list", (string)j.Body!["type"]!, StringComparison.Ordinal);
        });
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM \"WaitingListEntries\" WHERE \"CampaignId\" = $1", campaign.Id));

        var other = await fixture.NewCustomerAsync();
        Assert.Equal(2L, (long)(await JoinAsync(other, campaign.Id, 2)).Body!["entry"]!["place"]!);
        var left = await buyer.DeleteAsync($"/api/campaigns/{campaign.Id}/waiting-list");
        Assert.Equal(HttpStatusCode.OK, left.Status);
        Assert.Equal("Left", (string)left.Body!["entry"]!["status"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await buyer.DeleteAsync($"/api/campaigns/{campaign.Id}/waiting-list")).Status);
        var others = await ViewAsync(other, campaign.Id);
        Assert.Equal(1L, (long)others["entry"]!["place"]!);
        Assert.Equal(1L, (long)others["waiting"]!);

        // Joining again is at the back.
        Assert.Equal(2L, (long)(await JoinAsync(buyer, campaign.Id, 1)).Body!["entry"]!["place"]!);
    }

    [Fact]
    public async Task A_redis_that_lost_everything_gets_the_list_back_in_order_from_postgresql()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 2);
        var order = await fixture.BuyTicketsAsync(campaign.Id, 0, 1);
        var waiters = await fixture.NewCustomersAsync(3);
        foreach (var waiter in waiters)
        {
            Assert.Equal(HttpStatusCode.Created, (await JoinAsync(waiter, campaign.Id, 1)).Status);
        }

        await using (var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache") + ",allowAdmin=true"))
        {
            await redis.GetServers()[0].FlushAllDatabasesAsync();
        }

        // The first request after the loss rebuilds the campaign, its list with it: the public is still turned away.
        var latecomer = await fixture.NewCustomerAsync();
        var refused = await latecomer.HoldSeatsAsync(campaign.Id, 0);
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.EndsWith("/waiting-list", (string)refused.Body!["type"]!, StringComparison.Ordinal);
        var places = await Task.WhenAll(waiters.Select(async w => (long)(await ViewAsync(w, campaign.Id))["entry"]!["place"]!));
        Assert.Equal([1L, 2L, 3L], places);

        Assert.Equal(HttpStatusCode.OK, (await order.Buyer.PostAsync($"/api/orders/{order.OrderId}/cancel", null)).Status);
        await Eventually.HoldsAsync(async () => await OfferedCountAsync(campaign.Id) == 2, "two offers", s_wait);
        Assert.Equal(["Offered", "Offered", "Waiting"], await Task.WhenAll(waiters.Select(async w => (string)(await ViewAsync(w, campaign.Id))["entry"]!["status"]!)));
        await Invariants.AssertAllAsync(fixture, campaign, [order.OrderId]);
    }

    private static Task<ApiResponse> JoinAsync(ApiClient buyer, Guid campaign, int quantity, Guid? generalAdmissionCategoryId = null) =>
        buyer.PostAsync($"/api/campaigns/{campaign}/waiting-list", new { quantity, generalAdmissionCategoryId });

    private static async Task<JsonNode> ViewAsync(ApiClient buyer, Guid campaign)
    {
        var view = await buyer.GetAsync($"/api/campaigns/{campaign}/waiting-list");
        Assert.Equal(HttpStatusCode.OK, view.Status);
        return view.Body!;
    }

    private Task<long> OfferedCountAsync(Guid campaign) =>
        fixture.ScalarAsync("SELECT count(*) FROM \"WaitingListEntries\" WHERE \"CampaignId\" = $1 AND \"Status\" = 'Offered'", campaign);
}
