using System.Net;
using System.Text.Json;
using Npgsql;

namespace TicketSale.Sales.Tests;

/// <summary>
/// The PostgreSQL standby serves the reads that may be a little stale, never a decision: with its replay paused during a
/// sale those reads trail the sale while every seat is still sold once; past the lag bound, and with the standby down,
/// they come from the primary.
/// </summary>
[Collection(SaleCollection.Name)]
public sealed class ReadReplicaTests(SaleFixture fixture)
{
    [Fact]
    public async Task With_replay_paused_during_a_sale_reads_trail_it_within_the_bound_then_come_from_the_primary_and_every_seat_is_sold_once()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 12, perUserLimit: 4);
        var first = await fixture.NewCustomerAsync();
        var (_, firstHold, _) = await first.HoldSeatsAsync(campaign.Id, 0);
        var firstPurchase = (await first.PurchaseAsync(campaign.Id, firstHold!.Value)).PurchaseId!.Value;
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([firstPurchase], TimeSpan.FromSeconds(30)))[firstPurchase]);
        await Eventually.HoldsAsync(async () => await SeatsSoldAsync(campaign.Id) == 1, "the standby to hold the first sale");

        await SetReplayAsync(paused: true);
        try
        {
            // Twelve buyers race for two seats each of the eleven left, at once: whoever holds a seat buys it.
            var buyers = await fixture.NewCustomersAsync(12);
            var attempts = await Task.WhenAll(buyers.Select(async (buyer, i) =>
            {
                var (status, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 1 + (i % 11), 1 + ((i + 1) % 11));
                return (Buyer: buyer, PurchaseId: status == HttpStatusCode.Created ? (await buyer.PurchaseAsync(campaign.Id, hold!.Value)).PurchaseId : null);
            }));
            var purchases = attempts.Where(a => a.PurchaseId is not null).ToDictionary(a => a.PurchaseId!.Value, a => a.Buyer);
            Assert.NotEmpty(purchases);
            var outcomes = await fixture.WaitForOutcomesAsync(purchases.Keys, TimeSpan.FromSeconds(30));
            var confirmed = outcomes.Where(o => o.Value == "Confirmed").Select(o => o.Key).ToList();
            Assert.NotEmpty(confirmed);
            var soldOnPrimary = await fixture.ScalarAsync("SELECT count(*) FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\"", campaign.Id);
            Assert.Equal(1 + (2 * confirmed.Count), soldOnPrimary);

            // Within the bound the standby answers, as it was when replay stopped: the figures, and a buyer's list,
            // lack the sale; the order itself, opened from its purchase, is read from the primary.
            Assert.Equal(["Healthy", "Healthy"], await ReplicaChecksAsync());
            Assert.Equal(1, await SeatsSoldAsync(campaign.Id));
            var buyer = purchases[confirmed[0]];
            Assert.DoesNotContain((await buyer.GetAsync("/api/orders")).Body!.AsArray(), o => (Guid)o!["id"]! == confirmed[0]);
            Assert.Equal(HttpStatusCode.OK, (await buyer.GetAsync($"/api/orders/{confirmed[0]}")).Status);

            // Past the bound each Api replica stops reading the standby (each measures on its own): the same reads
            // now show the sale.
            await Eventually.HoldsAsync(async () => (await ReplicaChecksAsync()).All(c => c == "Degraded"), "both Api replicas to find the standby past the lag bound",
                SaleFixture.ReplicaMaxLag + TimeSpan.FromSeconds(20));
            Assert.Equal(soldOnPrimary, await SeatsSoldAsync(campaign.Id));
            Assert.Contains((await buyer.GetAsync("/api/orders")).Body!.AsArray(), o => (Guid)o!["id"]! == confirmed[0]);
            await Invariants.AssertAllAsync(fixture, campaign, [firstPurchase, .. purchases.Keys]);
        }
        finally
        {
            await SetReplayAsync(paused: false);
        }

        await Eventually.HoldsAsync(async () => (await ReplicaChecksAsync()).All(c => c == "Healthy"), "the standby to catch up and be read again");
    }

    [Fact]
    public async Task With_the_standby_down_every_stale_tolerant_read_still_succeeds_from_the_primary()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 4);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 0, 1);
        var purchase = (await buyer.PurchaseAsync(campaign.Id, hold!.Value)).PurchaseId!.Value;
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);

        await fixture.App.StopResourceAsync("postgres-replica");
        try
        {
            // At once, before any check has noticed: a read that fails on the standby is read again from the primary.
            Assert.Equal(2, await SeatsSoldAsync(campaign.Id));
            Assert.Contains((await buyer.GetAsync("/api/orders")).Body!.AsArray(), o => (Guid)o!["id"]! == purchase);
            Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.GetAsync($"/api/admin/campaigns/{campaign.Id}/dashboard")).Status);
            Assert.Equal(HttpStatusCode.OK, (await fixture.Anonymous().GetAsync("/api/campaigns")).Status);
            await Eventually.HoldsAsync(async () => (await ReplicaChecksAsync()).All(c => c == "Degraded"), "the Api replicas to report the standby down");
            // Degraded is not unready: the Api keeps serving.
            using var api = fixture.App.CreateOperatorClient("api", 0);
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode);
        }
        finally
        {
            await fixture.App.StartResourceAsync("postgres-replica");
            await fixture.App.WaitHealthyAsync("postgres-replica");
        }

        await Eventually.HoldsAsync(async () => (await ReplicaChecksAsync()).All(c => c == "Healthy"), "the standby to be read again once back");
    }

    private async Task<long> SeatsSoldAsync(Guid campaign)
    {
        var sales = await fixture.Admin.GetAsync($"/api/admin/campaigns/{campaign}/sales");
        Assert.Equal(HttpStatusCode.OK, sales.Status);
        return (long)sales.Body!["seatsSold"]!;
    }

    /// <summary>The standby's entry in each Api replica's readiness report.</summary>
    private async Task<string[]> ReplicaChecksAsync() => await Task.WhenAll(Enumerable.Range(0, 2).Select(async replica =>
    {
        using var api = fixture.App.CreateOperatorClient("api", replica);
        using var report = JsonDocument.Parse(await api.GetStringAsync(new Uri("/health", UriKind.Relative)));
        return report.RootElement.GetProperty("checks").GetProperty("tickets-replica").GetProperty("status").GetString() ?? "";
    }));

    /// <summary>Pauses or resumes WAL replay on the standby (its admin login): it keeps receiving, and stops applying.</summary>
    private async Task SetReplayAsync(bool paused)
    {
        await using var standby = new NpgsqlConnection(fixture.App.GetConnectionString("postgres-replica") + ";Database=postgres;Pooling=false");
        await standby.OpenAsync();
        await using var command = new NpgsqlCommand(paused ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()", standby);
        await command.ExecuteNonQueryAsync();
    }
}
