using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Redis holds the sale: a signed-in buyer sending purchases for random campaigns must not be able to fill it (each
/// used to leave a cached "not found" there), and it must never evict sale state to make room.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class RedisFillingTests(SecurityFixture fixture)
{
    [Fact]
    public async Task Ten_thousand_purchases_for_random_campaigns_leave_redis_within_bounds_and_the_sale_goes_on()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache") + ",allowAdmin=true");
        var server = redis.GetServers()[0];
        var config = (await server.ConfigGetAsync("maxmemory*")).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("noeviction", config["maxmemory-policy"]);
        Assert.NotEqual("0", config["maxmemory"]);
        var keysBefore = await server.DatabaseSizeAsync();
        var memoryBefore = await UsedMemoryAsync(server);

        var attacker = fixture.MintCustomer(Guid.NewGuid());
        var answers = new ConcurrentBag<HttpStatusCode>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 10_000), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (_, _) =>
            answers.Add((await attacker.PurchaseAsync(Guid.NewGuid(), Guid.NewGuid())).Status));

        Assert.All(answers, a => Assert.Contains(a, new[] { HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests }));
        // The lookups a user may cost the database: 10 at once, one a second after (the run takes seconds).
        Assert.InRange(answers.Count(a => a == HttpStatusCode.NotFound), 1, 200);
        var keysAfter = await server.DatabaseSizeAsync();
        var memoryAfter = await UsedMemoryAsync(server);
        Assert.True(keysAfter - keysBefore <= 50, $"Redis went from {keysBefore} to {keysAfter} keys.");
        Assert.True(memoryAfter - memoryBefore <= 4 * 1_048_576, $"Redis went from {memoryBefore} to {memoryAfter} bytes used.");

        // The sale goes on.
        var buyer = fixture.MintCustomer(Guid.NewGuid());
        var hold = await buyer.HoldSeatsAsync(campaign.Id, 3);
        Assert.Equal(HttpStatusCode.Created, hold.Status);
        var purchase = await buyer.PurchaseAsync(campaign.Id, hold.HoldId!.Value);
        Assert.Equal(HttpStatusCode.Accepted, purchase.Status);
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase.PurchaseId!.Value], TimeSpan.FromSeconds(30)))[purchase.PurchaseId!.Value]);
    }

    private static async Task<long> UsedMemoryAsync(IServer server) =>
        long.Parse((await server.InfoAsync("memory")).SelectMany(g => g).First(p => p.Key == "used_memory").Value, CultureInfo.InvariantCulture);
}
