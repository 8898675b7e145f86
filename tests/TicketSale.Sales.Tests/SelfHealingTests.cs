using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using RabbitMQ.Client;
using StackExchange.Redis;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Crashes at the worst moments of a purchase: each ends with every accepted purchase decided and the invariants
/// holding, the gateway's ledger included, with no step by hand (the AppHost restarts what crashed).
/// </summary>
[Collection(SaleCollection.Name)]
public sealed class SelfHealingTests(SaleFixture fixture) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// Whatever a test crashed is back before the next test starts, passed or failed: every process running, and each
    /// Api replica ready again (its connections recovered).
    /// </summary>
    public async Task DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await fixture.App.WaitForAllRunningAsync(timeout.Token);
        for (var replica = 0; replica < fixture.App.ReplicaCount("api"); replica++)
        {
            using var api = fixture.App.CreateHttpClient("api", replica);
            await Eventually.HoldsAsync(async () => (await api.GetAsync(new Uri("/health", UriKind.Relative))).IsSuccessStatusCode,
                $"api-{replica} to be ready again", TimeSpan.FromMinutes(1));
        }
    }

    [Fact]
    public async Task Charged_purchases_in_the_delay_queue_survive_postgres_and_broker_crashes_and_every_charge_is_matched()
    {
        const int buyers = 8;
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 40);
        var customers = await fixture.NewCustomersAsync(buyers);
        var holds = new List<(ApiClient Buyer, Guid Hold)>();
        foreach (var buyer in customers)
        {
            holds.Add((buyer, (await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 2)).HoldId!.Value));
        }

        // Lock the stock row: every purchase is charged, then its order waits on the lock inside its transaction.
        var blocker = new NpgsqlConnection(fixture.TicketsConnectionString);
        await blocker.OpenAsync();
        var transaction = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM \"GeneralAdmissionCategories\" WHERE \"Id\" = $1 FOR UPDATE", blocker, transaction))
        {
            lockRow.Parameters.AddWithValue(campaign.GeneralAdmissionId!.Value);
            await lockRow.ExecuteScalarAsync();
        }

        var accepted = new List<Guid>();
        foreach (var (buyer, hold) in holds)
        {
            var (status, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold);
            Assert.Equal(HttpStatusCode.Accepted, status);
            accepted.Add(purchase!.Value);
        }

        using var payments = fixture.Payments();
        await Eventually.HoldsAsync(async () => (await payments.ChargesAsync()).Count(c => accepted.Contains(Guid.Parse((string)c["paymentKey"]!))) == buyers,
            "every purchase to be charged while its order waits", TimeSpan.FromSeconds(60));

        // PostgreSQL dies with the orders uncommitted: the charged purchases go back through the delay queue.
        await fixture.App.KillResourceAsync("postgres");
        await blocker.DisposeAsync();
        await Eventually.HoldsAsync(async () => await DelayQueueDepthAsync() > 0, "purchases to wait in the delay queue", TimeSpan.FromSeconds(60));

        // The broker dies with them in the delay queue. Nobody restarts anything: the AppHost brings both servers back,
        // and the services reconnect by themselves.
        await fixture.App.KillResourceAsync("messaging");

        var outcomes = await fixture.WaitForOutcomesAsync(accepted, SaleFixture.PurchaseDeadline + TimeSpan.FromSeconds(60));
        Assert.All(outcomes.Values, s => Assert.Contains(s, new[] { "Confirmed", "Failed" }));

        // The Api's publisher and the Worker's consumers came back by themselves: a new purchase goes through.
        var latecomer = await fixture.NewCustomerAsync();
        var lateHold = (await latecomer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 1)).HoldId!.Value;
        Guid? latePurchase = null;
        await Eventually.HoldsAsync(async () => (latePurchase = (await latecomer.PurchaseAsync(campaign.Id, lateHold, "after-the-crashes")).PurchaseId) is not null,
            "a purchase to be accepted after the broker came back", TimeSpan.FromSeconds(60));
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([latePurchase!.Value], TimeSpan.FromSeconds(30)))[latePurchase.Value]);
        await Invariants.AssertAllAsync(fixture, campaign, [.. accepted, latePurchase.Value]);
    }

    public static TheoryData<string> Faults => ["worker killed", "api-1 killed", "messaging killed", "postgres killed", "redis frozen 5 s", "payments down 10 s"];

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task A_live_sale_recovers_by_itself_with_every_purchase_decided_after(string fault)
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 5_000);
        var accepted = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        var killed = fault.EndsWith("killed", StringComparison.Ordinal);
        var (resource, replica) = fault.Split(' ')[0] switch
        {
            "api-1" => ("api", 1),
            var name => (name, 0),
        };
        var restartsBefore = killed ? fixture.App.GetRestartCount(resource, replica) : 0;

        // Buyers through the gateway, each retrying a purchase with the same key as a real client does, for 20 s; the
        // fault comes 3 s in. Nobody restarts anything.
        using (var sale = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            var buying = Enumerable.Range(0, 12).Select(_ => BuyUntilAsync(campaign, accepted, sale.Token)).ToList();
            await Task.Delay(TimeSpan.FromSeconds(3));
            await InjectAsync(fault);
            await Task.WhenAll(buying);
        }

        if (killed)
        {
            await Eventually.HoldsAsync(() => Task.FromResult(fixture.App.GetRestartCount(resource, replica) > restartsBefore
                && fixture.App.GetState(resource, replica) == "Running"), $"{resource} to be restarted by the AppHost", TimeSpan.FromSeconds(60));
        }

        // Back by itself: a new purchase goes through.
        var latecomer = fixture.MintCustomer(Guid.NewGuid());
        var late = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        using (var retry = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await Eventually.HoldsAsync(() => BuyOnceAsync(latecomer, campaign, late, retry.Token), "a purchase to be accepted after the fault", TimeSpan.FromSeconds(60));
        }

        Assert.NotEmpty(accepted);
        var all = accepted.Concat(late).ToList();
        var outcomes = await fixture.WaitForOutcomesAsync(all, SaleFixture.PurchaseDeadline + TimeSpan.FromSeconds(60));
        Assert.All(outcomes.Values, s => Assert.Contains(s, new[] { "Confirmed", "Failed" }));
        await Invariants.AssertAllAsync(fixture, campaign, all);
    }

    private async Task InjectAsync(string fault)
    {
        switch (fault)
        {
            case "worker killed":
                await fixture.App.KillResourceAsync("worker");
                break;
            case "api-1 killed":
                await fixture.App.KillResourceAsync("api", 1);
                break;
            case "messaging killed":
                await fixture.App.KillResourceAsync("messaging");
                break;
            case "postgres killed":
                await fixture.App.KillResourceAsync("postgres");
                break;
            case "redis frozen 5 s":
                var redis = fixture.App.GetProcessId("cache")!.Value;
                await SignalAsync("STOP", redis);
                await Task.Delay(TimeSpan.FromSeconds(5));
                await SignalAsync("CONT", redis);
                break;
            default:
                using (var payments = fixture.Payments())
                {
                    await payments.SetAsync(outage: true);
                    await Task.Delay(TimeSpan.FromSeconds(10));
                    await payments.SetAsync();
                }

                break;
        }
    }

    private static async Task SignalAsync(string signal, int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>One buyer after another (each new, so that no per-user limit is reached), about four a second.</summary>
    private async Task BuyUntilAsync(Campaign campaign, System.Collections.Concurrent.ConcurrentBag<Guid> accepted, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await BuyOnceAsync(fixture.MintCustomer(Guid.NewGuid()), campaign, accepted, stop);
            await Task.Delay(250, CancellationToken.None);
        }
    }

    /// <summary>
    /// Holds one ticket and buys it, retrying the purchase with the same Idempotency-Key on a 5xx, a 429 or no
    /// answer until an answer that is not a failure; true when a purchase was accepted.
    /// </summary>
    private static async Task<bool> BuyOnceAsync(ApiClient buyer, Campaign campaign, System.Collections.Concurrent.ConcurrentBag<Guid> accepted, CancellationToken stop)
    {
        Guid? hold;
        try
        {
            hold = (await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 1)).HoldId;
        }
        catch (HttpRequestException)
        {
            return false;
        }

        if (hold is null)
        {
            return false;
        }

        var key = Guid.NewGuid().ToString("N");
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var (status, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold.Value, key);
                if (purchase is { } id)
                {
                    accepted.Add(id);
                    return true;
                }

                if ((int)status < 500 && status != HttpStatusCode.TooManyRequests)
                {
                    return false;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(500, CancellationToken.None);
        }

        return false;
    }

    [Fact]
    public async Task A_retry_after_a_replica_died_mid_purchase_continues_the_same_purchase_instead_of_waiting_for_the_hold_to_expire()
    {
        const string key = "replica-died-0001";
        // What a replica that died after pinning the hold, before the broker had the message, leaves behind.
        var (campaign, buyer, hold, purchase) = await HoldPinnedAsync(seat: 4, key, TimeSpan.FromMinutes(5), pending: false);

        var retry = await buyer.PurchaseAsync(campaign.Id, hold, key);
        Assert.Equal(HttpStatusCode.Accepted, retry.Status);
        Assert.Equal(purchase, retry.PurchaseId);
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);

        // Once it is decided, the same key still answers with the same purchase.
        var replay = await buyer.PurchaseAsync(campaign.Id, hold, key);
        Assert.Equal(HttpStatusCode.Accepted, replay.Status);
        Assert.Equal(purchase, replay.PurchaseId);
        await Invariants.AssertAllAsync(fixture, campaign, [purchase]);
    }

    [Fact]
    public async Task A_retry_refused_while_the_broker_is_down_leaves_the_first_attempts_pin_and_status_alone()
    {
        const string key = "first-attempt-0001";
        // What a first attempt whose answer was lost leaves: the hold pinned, the purchase pending (its message queued).
        var (campaign, buyer, hold, purchase) = await HoldPinnedAsync(seat: 2, key, TimeSpan.FromMinutes(5), pending: true);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var inventory = new SeatInventory(redis);

        await fixture.App.StopResourceAsync("messaging");
        try
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await buyer.PurchaseAsync(campaign.Id, hold, key)).Status);
            Assert.Equal(purchase, (await inventory.GetHoldAsync(campaign.Id, hold))!.PurchaseId);
            Assert.Equal("Pending", (await PurchaseOutcomeChannel.ReadAsync(redis.GetDatabase(), purchase))!.Status);
        }
        finally
        {
            await fixture.App.StartResourceAsync("messaging");
        }

        // Once the broker is back, the same key goes through as the same purchase.
        Guid? accepted = null;
        await Eventually.HoldsAsync(async () => (accepted = (await buyer.PurchaseAsync(campaign.Id, hold, key)).PurchaseId) is not null,
            "the purchase to be accepted after the broker came back", TimeSpan.FromSeconds(60));
        Assert.Equal(purchase, accepted);
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);
        await Invariants.AssertAllAsync(fixture, campaign, [purchase]);
    }

    [Fact]
    public async Task A_purchase_whose_message_was_lost_is_failed_by_the_sweeper_its_seats_released_and_its_key_voided()
    {
        // Accepted (pinned, pending) and then its message vanished; the pin has run out.
        var (campaign, buyer, _, purchase) = await HoldPinnedAsync(seat: 6, "message-lost-0001", TimeSpan.FromSeconds(-1), pending: true);
        Assert.Equal("Pending", (string)(await buyer.GetAsync($"/api/purchases/{purchase}")).Body!["status"]!);

        Assert.Equal("Failed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);
        await Eventually.HoldsAsync(async () => (await buyer.FreeSeatsAsync(campaign.Id)).Contains(6), "the seat to return to sale", TimeSpan.FromSeconds(60));

        // A charge for it that was still on its way is declined: the key was voided.
        using var payments = fixture.PaymentsClient();
        using var late = await payments.PostAsJsonAsync("/payments", new { paymentKey = purchase, amountCents = 4200 });
        Assert.Equal(HttpStatusCode.PaymentRequired, late.StatusCode);
        await Invariants.AssertAllAsync(fixture, campaign, [purchase]);
    }

    [Fact]
    public async Task A_charged_purchase_left_pending_past_its_deadline_is_failed_and_refunded_by_the_sweeper()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var hold = (await buyer.HoldSeatsAsync(campaign.Id, 8)).HoldId!.Value;
        var userId = await UserIdAsync(buyer);

        // A Worker recorded it and charged it, then its message was lost and no Worker ever came back to it.
        var purchase = PurchaseIds.For(userId, "pending-lost-0001");
        var request = new PurchaseRequested(purchase, userId, campaign.Id, hold, [8], null, 0, 4200, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(-1));
        await fixture.ScalarAsync(
            """
            WITH inserted AS (INSERT INTO "Purchases" ("Id", "UserId", "CampaignId", "HoldId", "Status", "AmountCents", "AcceptedAt", "Deadline", "Request")
            VALUES ($1, $2, $3, $4, 'Pending', 4200, $5, $6, $7::jsonb) RETURNING 1) SELECT count(*) FROM inserted
            """,
            purchase, userId, campaign.Id, hold, request.AcceptedAt.UtcDateTime, request.Deadline.UtcDateTime, JsonSerializer.Serialize(request));
        using var payments = fixture.PaymentsClient();
        using (var charge = await payments.PostAsJsonAsync("/payments", new { paymentKey = purchase, amountCents = 4200 }))
        {
            Assert.Equal(HttpStatusCode.Created, charge.StatusCode);
        }

        Assert.Equal("Failed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);
        await Invariants.WaitForNoPendingRefundsAsync(fixture);
        Assert.Equal("Refunded", (await fixture.QueryAsync("SELECT \"Status\" FROM \"Payments\" WHERE \"PurchaseId\" = $1", r => r.GetString(0), purchase))[0]);
        await Invariants.AssertAllAsync(fixture, campaign, [purchase]);
    }

    [Fact]
    public async Task The_gateways_health_says_whether_a_purchase_can_be_accepted()
    {
        using var web = fixture.App.CreateOperatorClient("web");
        await HealthBecomesAsync(web, HttpStatusCode.OK, "Healthy");

        // No Worker: purchases are still accepted (they queue), and the health says they wait.
        await HealthWithoutAsync(web, "worker", HttpStatusCode.OK, "Degraded", naming: "purchase-consumers");

        // No broker: no purchase can be accepted, and the gateway is not ready.
        await HealthWithoutAsync(web, "messaging", HttpStatusCode.ServiceUnavailable, "Unhealthy", naming: "messaging");

        await HealthBecomesAsync(web, HttpStatusCode.OK, "Healthy");
    }

    /// <summary>Stops <paramref name="resource"/>, waits for the gateway's health to say so (naming the check), and starts it again.</summary>
    private async Task HealthWithoutAsync(HttpClient web, string resource, HttpStatusCode code, string status, string naming)
    {
        await fixture.App.StopResourceAsync(resource);
        try
        {
            Assert.Contains(naming, await HealthBecomesAsync(web, code, status), StringComparison.Ordinal);
        }
        finally
        {
            await fixture.App.StartResourceAsync(resource);
        }
    }

    /// <summary>Waits until the gateway's readiness answers with this code and status; returns the report.</summary>
    private static async Task<string> HealthBecomesAsync(HttpClient web, HttpStatusCode code, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var response = await web.GetAsync(new Uri("/health", UriKind.Relative));
            var report = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == code && (string?)System.Text.Json.Nodes.JsonNode.Parse(report)?["status"] == status)
            {
                return report;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The gateway's health did not become {status} ({(int)code}); last: {(int)response.StatusCode} {report}");
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// A new buyer's hold of one seat of a new campaign, pinned to the purchase that <paramref name="key"/> names for
    /// <paramref name="pinnedFor"/> (negative: already run out), and, when <paramref name="pending"/>, that purchase's
    /// pending status — what an accepted purchase leaves in Redis.
    /// </summary>
    private async Task<(Campaign Campaign, ApiClient Buyer, Guid Hold, Guid Purchase)> HoldPinnedAsync(int seat, string key, TimeSpan pinnedFor, bool pending)
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var hold = (await buyer.HoldSeatsAsync(campaign.Id, seat)).HoldId!.Value;
        var userId = await UserIdAsync(buyer);
        var purchase = PurchaseIds.For(userId, key);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        Assert.Equal(PinStatus.Pinned, (await new SeatInventory(redis).PinAsync(campaign.Id, hold, userId, purchase, DateTimeOffset.UtcNow + pinnedFor, [])).Status);
        if (pending)
        {
            Assert.True(await PurchaseOutcomeChannel.RecordPendingAsync(redis.GetDatabase(), purchase, userId, hold));
        }

        return (campaign, buyer, hold, purchase);
    }

    private async Task<Guid> UserIdAsync(ApiClient buyer) =>
        (await fixture.QueryAsync("SELECT \"Id\" FROM \"Users\" WHERE \"Email\" = $1", r => r.GetGuid(0), buyer.Email!))[0];

    private async Task<uint> DelayQueueDepthAsync()
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(fixture.App.GetConnectionString("messaging")) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(PurchaseTopology.RetryQueue)).MessageCount;
    }
}
