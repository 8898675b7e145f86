using System.Collections.Concurrent;
using System.Net;

namespace TicketSale.Sales.Tests;

/// <summary>Real concurrency: many parallel clients through the Web gateway against both Api replicas.</summary>
[Collection(SaleCollection.Name)]
public sealed class ConcurrencyTests(SaleFixture fixture)
{
    [Fact]
    public async Task Two_hundred_buyers_fighting_over_fifty_seats_buy_exactly_fifty_and_the_losers_get_409()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 5, seatsPerRow: 10);
        var buyers = await fixture.NewCustomersAsync(200);
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var accepted = new ConcurrentBag<Guid>();
        var winners = new ConcurrentBag<int>();

        // Every buyer wants one seat: looks at the seat map, tries a free seat, and on 409 tries another.
        await Task.WhenAll(buyers.Select(async (buyer, i) =>
        {
            var random = new Random(i);
            for (var attempt = 0; attempt < 30; attempt++)
            {
                var free = await buyer.FreeSeatsAsync(campaign.Id);
                if (free.Count == 0)
                {
                    return;
                }

                var seat = free[random.Next(free.Count)];
                var (status, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, seat);
                statuses.Add(status);
                if (status == HttpStatusCode.Created)
                {
                    var (purchaseStatus, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold!.Value);
                    Assert.Equal(HttpStatusCode.Accepted, purchaseStatus);
                    accepted.Add(purchase!.Value);
                    winners.Add(seat);
                    return;
                }
            }
        }));

        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        Assert.Contains(HttpStatusCode.Conflict, statuses);
        Assert.Equal(50, winners.Count);
        Assert.Equal(50, winners.Distinct().Count());

        var outcomes = await fixture.WaitForOutcomesAsync(accepted.ToList(), TimeSpan.FromSeconds(60));
        Assert.All(outcomes.Values, s => Assert.Equal("Confirmed", s));
        Assert.Equal(50, await fixture.ScalarAsync("SELECT count(*) FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\"", campaign.Id));
        Assert.Empty(await buyers[0].FreeSeatsAsync(campaign.Id));
        await Invariants.AssertAllAsync(fixture, campaign, accepted.ToList());
    }

    [Fact]
    public async Task A_general_admission_category_of_1000_hit_by_3000_parallel_requests_sells_exactly_1000()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, perUserLimit: 50, generalAdmission: 1000);
        var buyers = await fixture.NewCustomersAsync(60);
        var holds = new ConcurrentBag<(ApiClient Buyer, Guid Hold)>();
        var statuses = new ConcurrentBag<HttpStatusCode>();

        using var gate = new SemaphoreSlim(256);
        await Task.WhenAll(Enumerable.Range(0, 3000).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var buyer = buyers[i % buyers.Count];
                var (status, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 1);
                statuses.Add(status);
                if (hold is { } id)
                {
                    holds.Add((buyer, id));
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        Assert.Equal(1000, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(2000, statuses.Count(s => s == HttpStatusCode.Conflict));

        var accepted = new ConcurrentBag<Guid>();
        await Task.WhenAll(holds.Select(async h =>
        {
            await gate.WaitAsync();
            try
            {
                var (status, purchase, _) = await h.Buyer.PurchaseAsync(campaign.Id, h.Hold);
                Assert.Equal(HttpStatusCode.Accepted, status);
                accepted.Add(purchase!.Value);
            }
            finally
            {
                gate.Release();
            }
        }));

        var outcomes = await fixture.WaitForOutcomesAsync(accepted.ToList(), TimeSpan.FromSeconds(90));
        Assert.All(outcomes.Values, s => Assert.Equal("Confirmed", s));
        Assert.Equal(1000, await fixture.ScalarAsync("SELECT \"Sold\" FROM \"GeneralAdmissionCategories\" WHERE \"Id\" = $1", campaign.GeneralAdmissionId!.Value));
        await Invariants.AssertAllAsync(fixture, campaign, accepted.ToList());
    }

    [Fact]
    public async Task The_per_user_limit_holds_under_parallel_requests_from_one_user_across_holds_and_orders()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 4, seatsPerRow: 10, perUserLimit: 4);
        var buyer = await fixture.NewCustomerAsync();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 20).Select(seat => buyer.HoldSeatsAsync(campaign.Id, seat)));

        var held = attempts.Where(a => a.Status == HttpStatusCode.Created).ToList();
        Assert.Equal(4, held.Count);
        Assert.All(attempts.Where(a => a.Status != HttpStatusCode.Created), a =>
        {
            Assert.Equal(HttpStatusCode.Conflict, a.Status);
            Assert.EndsWith("per-user-limit", (string)a.Body!["type"]!, StringComparison.Ordinal);
        });

        // Bought tickets count against the limit just as held ones do.
        var (status, purchase, _) = await buyer.PurchaseAsync(campaign.Id, held[0].HoldId!.Value);
        Assert.Equal(HttpStatusCode.Accepted, status);
        await fixture.WaitForOutcomesAsync([purchase!.Value], TimeSpan.FromSeconds(30));
        foreach (var other in held.Skip(1))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await buyer.DeleteAsync($"/api/campaigns/{campaign.Id}/holds/{other.HoldId}")).Status);
        }

        var more = await Task.WhenAll(Enumerable.Range(20, 10).Select(seat => buyer.HoldSeatsAsync(campaign.Id, seat)));
        Assert.Equal(3, more.Count(a => a.Status == HttpStatusCode.Created));
    }
}
