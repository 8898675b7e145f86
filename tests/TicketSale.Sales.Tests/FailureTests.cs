using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Npgsql;
using RabbitMQ.Client;
using StackExchange.Redis;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;

namespace TicketSale.Sales.Tests;

/// <summary>Components failing in the middle of a sale; after each, the invariants of docs/architecture.md must hold.</summary>
[Collection(SaleCollection.Name)]
public sealed class FailureTests(SaleFixture fixture)
{
    [Fact]
    public async Task A_purchase_redelivered_after_the_worker_is_killed_mid_transaction_creates_no_second_order()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 2);

        // Lock the stock row: the Worker's transaction will have written the order and tickets, then wait on it.
        await using var blocker = new NpgsqlConnection(fixture.TicketsConnectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM \"GeneralAdmissionCategories\" WHERE \"Id\" = $1 FOR UPDATE", blocker, transaction))
        {
            lockRow.Parameters.AddWithValue(campaign.GeneralAdmissionId!.Value);
            await lockRow.ExecuteScalarAsync();
        }

        var (_, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold!.Value);
        await Eventually.HoldsAsync(async () => await fixture.ScalarAsync(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%GeneralAdmissionCategories%'") > 0, "the Worker to block inside its transaction");

        await fixture.App.KillResourceAsync("worker");
        await transaction.RollbackAsync();
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM \"Orders\" WHERE \"Id\" = $1", purchase!.Value));

        await fixture.App.StartResourceAsync("worker");

        var outcome = await fixture.WaitForOutcomesAsync([purchase.Value], TimeSpan.FromSeconds(30));
        Assert.Equal("Confirmed", outcome[purchase.Value]);
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM \"Orders\" WHERE \"CampaignId\" = $1", campaign.Id));
        Assert.Equal(2, await fixture.ScalarAsync("SELECT \"Sold\" FROM \"GeneralAdmissionCategories\" WHERE \"Id\" = $1", campaign.GeneralAdmissionId!.Value));
        await Invariants.AssertAllAsync(fixture, campaign, [purchase.Value]);
    }

    [Fact]
    public async Task A_poison_message_lands_in_the_dead_letter_queue_and_its_seats_return_to_sale()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 0, 1);
        Assert.DoesNotContain(0, await buyer.FreeSeatsAsync(campaign.Id));
        var userId = Guid.Parse((await fixture.QueryAsync("SELECT \"Id\" FROM \"Users\" WHERE \"Email\" = $1", r => r.GetGuid(0), buyer.Email!))[0].ToString());

        // Seats and general admission at once: no code path can process it.
        var poison = new PurchaseRequested(Guid.NewGuid(), userId, campaign.Id, hold!.Value, [0, 1], Guid.NewGuid(), 1, 8400,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
        await fixture.PublishAsync(JsonSerializer.SerializeToUtf8Bytes(poison));

        var outcome = await fixture.WaitForOutcomesAsync([poison.PurchaseId], TimeSpan.FromSeconds(30));
        Assert.Equal("Failed", outcome[poison.PurchaseId]);
        Assert.Equal("The purchase could not be processed.", (await fixture.QueryAsync("SELECT \"FailureReason\" FROM \"Purchases\" WHERE \"Id\" = $1", r => r.GetString(0), poison.PurchaseId))[0]);
        await Eventually.HoldsAsync(async () => (await buyer.FreeSeatsAsync(campaign.Id)).Contains(0), "the seats to return to sale");
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM \"Orders\" WHERE \"CampaignId\" = $1", campaign.Id));
        await Invariants.AssertAllAsync(fixture, campaign, [poison.PurchaseId]);
    }

    [Fact]
    public async Task Purchases_queued_while_postgres_is_down_are_retried_with_backoff_and_confirmed()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 20, perUserLimit: 20);
        var buyer = await fixture.NewCustomerAsync();
        var holds = new List<Guid>();
        for (var seat = 0; seat < 10; seat++)
        {
            holds.Add((await buyer.HoldSeatsAsync(campaign.Id, seat)).HoldId!.Value);
        }

        await fixture.App.StopResourceAsync("postgres");
        var accepted = new List<Guid>();
        try
        {
            // Holds and purchases need no database: the sale goes on while it is down.
            foreach (var hold in holds)
            {
                var (status, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold);
                Assert.Equal(HttpStatusCode.Accepted, status);
                accepted.Add(purchase!.Value);
            }

            await Task.Delay(TimeSpan.FromSeconds(4));
        }
        finally
        {
            await fixture.App.StartResourceAsync("postgres");
        }

        var outcomes = await fixture.WaitForOutcomesAsync(accepted, TimeSpan.FromSeconds(45));
        Assert.All(outcomes.Values, s => Assert.Equal("Confirmed", s));
        await Invariants.AssertAllAsync(fixture, campaign, accepted);
    }

    [Fact]
    public async Task With_payments_failing_half_the_time_then_down_every_purchase_ends_confirmed_or_failed_and_released()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 4, seatsPerRow: 10);
        var buyers = await fixture.NewCustomersAsync(40);
        using var payments = fixture.Payments();
        var accepted = new ConcurrentBag<Guid>();
        try
        {
            await payments.SetAsync(failureRate: 0.5);
            await Task.WhenAll(buyers.Take(25).Select(async (buyer, i) =>
            {
                var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, i);
                accepted.Add((await buyer.PurchaseAsync(campaign.Id, hold!.Value)).PurchaseId!.Value);
            }));
            await Task.Delay(TimeSpan.FromSeconds(3));

            await payments.SetAsync(outage: true);
            await Task.WhenAll(buyers.Skip(25).Select(async (buyer, i) =>
            {
                var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 25 + i);
                accepted.Add((await buyer.PurchaseAsync(campaign.Id, hold!.Value)).PurchaseId!.Value);
            }));

            // Outage purchases wait in the delay queue until their deadline fails them.
            var outcomes = await fixture.WaitForOutcomesAsync(accepted.ToList(), SaleFixture.PurchaseDeadline + TimeSpan.FromSeconds(40));
            Assert.Contains("Failed", outcomes.Values);
            Assert.Contains("Confirmed", outcomes.Values);
        }
        finally
        {
            // Refunds of the failed purchases go through once the gateway is back.
            await payments.SetAsync();
        }

        var failedSeats = await fixture.QueryAsync(
            "SELECT count(*) FROM \"Purchases\" p WHERE p.\"Id\" = ANY($1) AND p.\"Status\" = 'Failed'", r => r.GetInt64(0), accepted.ToArray());
        var free = await buyers[0].FreeSeatsAsync(campaign.Id);
        Assert.Equal(failedSeats[0], free.Count(s => s < 40));
        await Invariants.AssertAllAsync(fixture, campaign, accepted.ToList());
    }

    [Fact]
    public async Task Holds_expire_and_their_seats_become_available_again()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10, holdSeconds: 2);
        var alice = await fixture.NewCustomerAsync();
        var bob = await fixture.NewCustomerAsync();

        var (status, hold, body) = await alice.HoldSeatsAsync(campaign.Id, 4, 5);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.InRange(DateTimeOffset.Parse((string)body!["expiresAt"]!, System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.UtcNow,
            TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(3));
        Assert.Equal(HttpStatusCode.Conflict, (await bob.HoldSeatsAsync(campaign.Id, 4)).Status);

        // The sweeper gives the seats back without anyone asking for them...
        await Eventually.HoldsAsync(async () => (await bob.FreeSeatsAsync(campaign.Id)).Contains(4), "the sweeper to release the expired hold");
        Assert.Equal(HttpStatusCode.NotFound, (await alice.PurchaseAsync(campaign.Id, hold!.Value)).Status);

        // ...and the hold script itself ignores a lapsed hold, sweeper or not.
        var (_, carolHold, _) = await alice.HoldSeatsAsync(campaign.Id, 7);
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        Assert.Equal(HttpStatusCode.Created, (await bob.HoldSeatsAsync(campaign.Id, 7)).Status);
        Assert.NotNull(carolHold);
    }

    [Fact]
    public async Task Redis_flushed_in_the_middle_of_a_sale_is_rebuilt_from_postgres_and_no_seat_is_sold_twice()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 4, seatsPerRow: 10);
        var buyers = await fixture.NewCustomersAsync(60);
        var accepted = new ConcurrentBag<Guid>();

        async Task BuyAsync(ApiClient buyer, int index)
        {
            var random = new Random(index);
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var free = await buyer.FreeSeatsAsync(campaign.Id);
                if (free.Count == 0)
                {
                    return;
                }

                var (status, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, free[random.Next(free.Count)]);
                if (status == HttpStatusCode.Created)
                {
                    var (purchaseStatus, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold!.Value);
                    if (purchaseStatus == HttpStatusCode.Accepted)
                    {
                        accepted.Add(purchase!.Value);
                        return;
                    }
                }
            }
        }

        var firstHalf = Task.WhenAll(buyers.Take(30).Select(BuyAsync));
        await Task.Delay(300);
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache") + ",allowAdmin=true"))
        {
            await redis.GetServers()[0].FlushAllDatabasesAsync();
        }

        await firstHalf;
        await Task.WhenAll(buyers.Skip(30).Select((b, i) => BuyAsync(b, 30 + i)));

        var outcomes = await fixture.WaitForOutcomesAsync(accepted.ToList(), TimeSpan.FromSeconds(60));
        Assert.Contains("Confirmed", outcomes.Values);
        var sold = await fixture.ScalarAsync("SELECT count(*) FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\"", campaign.Id);
        Assert.Equal(outcomes.Values.Count(s => s == "Confirmed"), sold);
        await Invariants.AssertAllAsync(fixture, campaign, accepted.ToList());

        // And the availability Redis shows is exactly what PostgreSQL sold (no holds are left).
        var soldSeats = (await fixture.QueryAsync("SELECT \"SeatIndex\" FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\"", r => r.GetInt32(0), campaign.Id)).ToHashSet();
        await Eventually.HoldsAsync(async () => (await buyers[0].FreeSeatsAsync(campaign.Id)).ToHashSet().SetEquals(Enumerable.Range(0, 40).Where(s => !soldSeats.Contains(s))),
            "Redis availability to equal PostgreSQL's");
    }

    [Fact]
    public async Task Holds_keep_working_after_redis_forgets_its_scripts()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        Assert.Equal(HttpStatusCode.Created, (await buyer.HoldSeatsAsync(campaign.Id, 0)).Status);

        // What a Redis restart does to the script cache: the services run scripts by SHA1 and must send them again.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache") + ",allowAdmin=true"))
        {
            await redis.GetServers()[0].ScriptFlushAsync();
        }

        var (status, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 1);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(HttpStatusCode.NoContent, (await buyer.DeleteAsync($"/api/campaigns/{campaign.Id}/holds/{hold}")).Status);
        Assert.Contains(1, await buyer.FreeSeatsAsync(campaign.Id));
    }

    [Fact]
    public async Task With_the_broker_down_a_purchase_answers_503_with_retry_after_and_the_hold_stays()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 2);

        await fixture.App.StopResourceAsync("messaging");
        ApiResponse refused;
        try
        {
            refused = (await buyer.PurchaseAsync(campaign.Id, hold!.Value, "broker-down-key")).Response;
        }
        finally
        {
            await fixture.App.StartResourceAsync("messaging");
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Equal("application/problem+json", refused.ContentType);
        Assert.Equal(HttpStatusCode.OK, (await buyer.GetAsync($"/api/campaigns/{campaign.Id}/holds/{hold}")).Status);
        Assert.DoesNotContain(2, await buyer.FreeSeatsAsync(campaign.Id));

        // Once the broker is back (and the Api's connection has recovered), the same key goes through.
        Guid? purchase = null;
        await Eventually.HoldsAsync(async () =>
        {
            var retry = await buyer.PurchaseAsync(campaign.Id, hold.Value, "broker-down-key");
            purchase = retry.PurchaseId;
            return retry.Status == HttpStatusCode.Accepted;
        }, "the purchase to be accepted after the broker restarted");
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase!.Value], TimeSpan.FromSeconds(30)))[purchase.Value]);
    }

    [Fact]
    public async Task A_hold_purchased_twice_after_a_lost_broker_confirm_is_sold_once_and_the_second_charge_refunded()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 2);
        var userId = (await fixture.QueryAsync("SELECT \"Id\" FROM \"Users\" WHERE \"Email\" = $1", r => r.GetGuid(0), buyer.Email!))[0];

        // What reaches the queue when the broker's confirm of a first purchase comes too late: the Api answered 503,
        // the buyer retried, and both purchases of the one hold are queued.
        PurchaseRequested Purchase() => new(Guid.CreateVersion7(), userId, campaign.Id, hold!.Value, [], campaign.GeneralAdmissionId!.Value, 2, 3000,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
        var (first, second) = (Purchase(), Purchase());
        await fixture.PublishAsync(JsonSerializer.SerializeToUtf8Bytes(first), JsonSerializer.SerializeToUtf8Bytes(second));

        var outcomes = await fixture.WaitForOutcomesAsync([first.PurchaseId, second.PurchaseId], TimeSpan.FromSeconds(30));
        Assert.Equal(["Confirmed", "Failed"], outcomes.Values.Order());
        var failed = outcomes.Single(o => o.Value == "Failed").Key;
        Assert.Equal("This hold was bought by another purchase.",
            (await fixture.QueryAsync("SELECT \"FailureReason\" FROM \"Purchases\" WHERE \"Id\" = $1", r => r.GetString(0), failed))[0]);
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM \"Orders\" WHERE \"CampaignId\" = $1", campaign.Id));
        Assert.Equal(2, await fixture.ScalarAsync("SELECT \"Sold\" FROM \"GeneralAdmissionCategories\" WHERE \"Id\" = $1", campaign.GeneralAdmissionId!.Value));
        await Invariants.AssertAllAsync(fixture, campaign, [first.PurchaseId, second.PurchaseId]);
        Assert.Equal("Refunded", (await fixture.QueryAsync("SELECT \"Status\" FROM \"Payments\" WHERE \"PurchaseId\" = $1", r => r.GetString(0), failed))[0]);
    }

    [Fact]
    public async Task Drift_between_redis_and_postgres_is_exported_as_a_metric_and_repaired_on_demand()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 1, 2);
        var purchase = (await buyer.PurchaseAsync(campaign.Id, hold!.Value)).PurchaseId!.Value;
        await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30));
        // Not before the Worker marked it sold there: its confirmation would write the seat back (one CI run).
        await fixture.WaitForRedisToConfirmAsync(campaign.Id, purchase);

        // Redis forgets one sale behind the system's back.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache")))
        {
            await redis.GetDatabase().HashDeleteAsync($"ts:{{{campaign.Id:N}}}:seats", 2);
        }

        await DriftIsShownThenRepairedAsync(campaign.Id, "the lost sale");
    }

    [Fact]
    public async Task A_seat_redis_shows_sold_that_postgres_never_sold_is_counted_as_drift_and_freed_by_a_rebuild()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        // The campaign is loaded into Redis by its first hold.
        var (status, _, _) = await buyer.HoldSeatsAsync(campaign.Id, 1);
        Assert.Equal(HttpStatusCode.Created, status);

        // Redis marks a seat sold to an order PostgreSQL does not have: nobody could buy it any more.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache")))
        {
            await redis.GetDatabase().HashSetAsync($"ts:{{{campaign.Id:N}}}:seats", 7, "S:" + Guid.NewGuid().ToString("N"));
        }

        await DriftIsShownThenRepairedAsync(campaign.Id, "the seat nobody bought");
        (status, _, _) = await buyer.HoldSeatsAsync(campaign.Id, 7);
        Assert.Equal(HttpStatusCode.Created, status);
    }

    [Fact]
    public async Task Redis_sold_seats_are_read_a_page_at_a_time_and_only_the_sold_ones()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var campaign = Guid.NewGuid();
        var key = SeatInventory.Prefix(campaign) + ":seats";
        var orders = Enumerable.Range(0, (2 * SeatInventory.SeatStatesPerCommand) + 500).ToDictionary(s => s, _ => Guid.NewGuid());
        // Every third seat held, not sold.
        await redis.GetDatabase().HashSetAsync(key, [.. orders.Select(o => new HashEntry(o.Key, (o.Key % 3 == 0 ? "H:" : "S:") + o.Value.ToString("N")))]);
        try
        {
            var sold = await new SeatInventory(redis).GetSoldSeatsAsync(campaign);

            Assert.Equal(orders.Where(o => o.Key % 3 != 0).OrderBy(o => o.Key), sold.OrderBy(o => o.Key));
        }
        finally
        {
            await redis.GetDatabase().KeyDeleteAsync(key);
        }
    }

    [Fact]
    public async Task The_reconciler_reads_seat_states_a_chunk_at_a_time_and_in_the_order_asked()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var campaign = Guid.NewGuid();
        var key = SeatInventory.Prefix(campaign) + ":seats";
        // More than two commands' worth, asked in descending order, with every third seat free.
        var seats = Enumerable.Range(0, (2 * SeatInventory.SeatStatesPerCommand) + 500).Reverse().ToList();
        await redis.GetDatabase().HashSetAsync(key, [.. seats.Where(s => s % 3 != 0).Select(s => new HashEntry(s, $"S:{s}"))]);
        try
        {
            var states = await new SeatInventory(redis).GetSeatStatesAsync(campaign, seats);

            Assert.Equal(seats.Select(s => s % 3 == 0 ? null : $"S:{s}"), states);
        }
        finally
        {
            await redis.GetDatabase().KeyDeleteAsync(key);
        }
    }

    /// <summary>The Worker's drift metric shows the disagreement; the admin's reconcile repairs it and the metric returns to zero.</summary>
    private async Task DriftIsShownThenRepairedAsync(Guid campaign, string disagreement)
    {
        using var worker = fixture.App.CreateOperatorClient("worker");
        await Eventually.HoldsAsync(async () => DriftIn(await worker.GetStringAsync(new Uri("/metrics", UriKind.Relative))) >= 1, $"the drift metric to show {disagreement}");

        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.PostAsync($"/api/admin/campaigns/{campaign}/reconcile", null)).Status);
        await Eventually.HoldsAsync(async () => DriftIn(await worker.GetStringAsync(new Uri("/metrics", UriKind.Relative))) == 0, "the drift metric to return to zero");
    }

    private static double DriftIn(string metrics) => SaleFixture.MetricSamples(metrics, "ticketsale_inventory_drift").DefaultIfEmpty(-1).Max();

}
