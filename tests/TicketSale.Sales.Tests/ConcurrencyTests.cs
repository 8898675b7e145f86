using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using TicketSale.Core.Messaging;

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

    [Fact]
    public async Task A_backlog_is_written_in_batches_and_a_purchase_that_cannot_commit_fails_alone()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 40, perUserLimit: 10, generalAdmission: 10);
        var buyer = await fixture.NewCustomerAsync();
        var userId = (await fixture.QueryAsync("SELECT \"Id\" FROM \"Users\" WHERE \"Email\" = $1", r => r.GetGuid(0), buyer.Email!))[0];
        PurchaseRequested Purchase(int[] seats, int quantity = 0) => new(Guid.NewGuid(), userId, campaign.Id, Guid.NewGuid(), seats,
            quantity > 0 ? campaign.GeneralAdmissionId : null, quantity, 1000, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));

        // A backlog while the Worker is away: 30 seats, a second purchase of seat 5 (as after a Redis data loss), four
        // purchases of 3 general-admission tickets where 10 are left, and one message delivered twice.
        var seated = Enumerable.Range(0, 30).Select(seat => Purchase([seat])).ToList();
        var secondOfSeat5 = Purchase([5]);
        var generalAdmission = Enumerable.Range(0, 4).Select(_ => Purchase([], quantity: 3)).ToList();
        List<PurchaseRequested> all = [.. seated, secondOfSeat5, .. generalAdmission];
        await fixture.App.StopResourceAsync("worker");
        try
        {
            await fixture.PublishAsync([.. all.Select(p => JsonSerializer.SerializeToUtf8Bytes(p)), JsonSerializer.SerializeToUtf8Bytes(seated[0])]);
        }
        finally
        {
            await fixture.App.StartResourceAsync("worker");
        }

        var outcomes = await fixture.WaitForOutcomesAsync([.. all.Select(p => p.PurchaseId)], TimeSpan.FromSeconds(60));

        var seat5 = new[] { seated[5].PurchaseId, secondOfSeat5.PurchaseId };
        Assert.All(seated.Where(p => !seat5.Contains(p.PurchaseId)), p => Assert.Equal("Confirmed", outcomes[p.PurchaseId]));
        Assert.Equal(["Confirmed", "Failed"], seat5.Select(id => outcomes[id]).Order());
        Assert.Equal(3, generalAdmission.Count(p => outcomes[p.PurchaseId] == "Confirmed"));
        Assert.Equal(["Sold out."], await fixture.QueryAsync("SELECT \"FailureReason\" FROM \"Purchases\" WHERE \"Id\" = ANY($1) AND \"Status\" = 'Failed'",
            r => r.GetString(0), generalAdmission.Select(p => p.PurchaseId).ToArray()));
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM \"Orders\" WHERE \"Id\" = $1", seated[0].PurchaseId));
        Assert.Equal(9, await fixture.ScalarAsync("SELECT \"Sold\" FROM \"GeneralAdmissionCategories\" WHERE \"Id\" = $1", campaign.GeneralAdmissionId!.Value));

        // The orders went in together (group commit), not one transaction each.
        using var worker = fixture.App.CreateOperatorClient("worker");
        var metrics = await worker.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.True(SaleFixture.MetricSamples(metrics, "ticketsale_orders_batch_size_sum").Sum() > SaleFixture.MetricSamples(metrics, "ticketsale_orders_batch_size_count").Sum(),
            "No batch of more than one purchase was written.");
        await Invariants.AssertAllAsync(fixture, campaign, [.. all.Select(p => p.PurchaseId)]);
    }
}
