using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Threading.RateLimiting;
using TicketSale.Bench.Load;

namespace TicketSale.Bench.Scenarios;

/// <summary>
/// One fault at a time during a steady sale through the gateway: buyers hold a general-admission ticket and buy it,
/// retrying the purchase with the same Idempotency-Key on a 5xx, a 429 or no answer, as a real client does. Nobody
/// restarts anything by hand: the AppHost restarts what crashed and the services reconnect by themselves. For each
/// fault: the answers by status code, the seconds from the fault (and from the component's return) until purchases
/// were accepted again, the seconds until every purchase accepted around it was decided, and the invariant check,
/// read against PostgreSQL, Redis and the payment gateway's own ledger.
/// </summary>
public static class Chaos
{
    private const int Workers = 64;
    private const int PairsPerSecond = 100;
    private static readonly TimeSpan s_load = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan s_faultAt = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan s_settle = TimeSpan.FromMinutes(3);

    /// <param name="Resource">The resource whose return the scenario waits for; null when the fault ends by itself.</param>
    private sealed record Fault(string Name, string? Resource, int Replica, Func<BenchTarget, Task> Inject);

    private static readonly Fault[] s_faults =
    [
        new("SIGKILL the Worker", "worker", 0, t => t.KillAsync("worker")),
        new("SIGKILL one Api replica", "api", 1, t => t.KillAsync("api", 1)),
        new("SIGKILL RabbitMQ", "messaging", 0, t => t.KillAsync("messaging")),
        new("SIGKILL PostgreSQL", "postgres", 0, t => t.KillAsync("postgres")),
        new("SIGSTOP Redis for 5 s", null, 0, async t =>
        {
            t.Freeze("cache");
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
            }
            finally
            {
                t.Thaw("cache");
            }
        }),
        new("payment gateway down for 10 s", null, 0, async t =>
        {
            await t.SetPaymentOutageAsync(true);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(10));
            }
            finally
            {
                await t.SetPaymentOutageAsync(false);
            }
        }),
    ];

    public static async Task RunAsync(BenchRun run)
    {
        var campaign = await run.Target.NewCampaignAsync("Chaos", rows: 0, generalAdmission: 1_000_000, perUserLimit: 50, holdSeconds: 600);
        run.Campaigns.Add(campaign);
        var buyers = new BuyerPool(run.Target, 20_000, TimeSpan.FromHours(3));
        var figures = new List<FaultFigures>();
        foreach (var fault in s_faults)
        {
            await run.SettleAsync();
            figures.Add(await RunFaultAsync(run, campaign, buyers, fault));
        }

        run.Figures["chaos"] = figures;
        var broken = figures.Where(f => f.Violations.Count > 0 || f.Undecided > 0).ToList();
        if (broken.Count > 0)
        {
            throw new InvalidOperationException("Chaos: " + string.Join("; ", broken.Select(f =>
                $"{f.Fault}: {f.Undecided} undecided, {string.Join(", ", f.Violations)}")));
        }
    }

    private static async Task<FaultFigures> RunFaultAsync(BenchRun run, BenchCampaign campaign, BuyerPool buyers, Fault fault)
    {
        var answers = new ConcurrentQueue<(double Seconds, int Status)>();
        var clock = Stopwatch.StartNew();
        using var http = BenchTarget.NewClient(Workers);
        using var pace = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = PairsPerSecond / 10,
            TokensPerPeriod = PairsPerSecond / 10,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = 100_000,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });

        double? faultAt = null, healthyAt = null;
        var injection = Task.Run(async () =>
        {
            await Task.Delay(s_faultAt);
            faultAt = clock.Elapsed.TotalSeconds;
            await fault.Inject(run.Target);
            if (fault.Resource is { } resource)
            {
                // Down first (the AppHost has seen the exit), then running and healthy again.
                var deadline = clock.Elapsed + TimeSpan.FromMinutes(2);
                while (run.Target.IsRunning(resource, fault.Replica) && clock.Elapsed - TimeSpan.FromSeconds(faultAt.Value) < TimeSpan.FromSeconds(5))
                {
                    await Task.Delay(50);
                }

                while (!run.Target.IsRunning(resource, fault.Replica) && clock.Elapsed < deadline)
                {
                    await Task.Delay(100);
                }
            }

            healthyAt = clock.Elapsed.TotalSeconds;
        });

        void Answered(int status) => answers.Enqueue((clock.Elapsed.TotalSeconds, status));
        var load = await run.LoadAsync($"chaos · {fault.Name}", Workers, s_load, BuyRetrying(run, campaign, http, buyers, Answered), pace);
        await injection;
        var loadEnded = clock.Elapsed.TotalSeconds;

        var undecided = await Invariants.WaitForOutcomesAsync(run, s_settle, $"chaos · {fault.Name}: outcomes of");
        var decidedAt = clock.Elapsed.TotalSeconds;
        var violations = await Invariants.CheckAsync(run);

        // Back: the first purchase accepted after the last failure (no answer, or a 5xx) that followed the fault.
        var afterFault = answers.Where(a => a.Seconds >= faultAt!.Value).OrderBy(a => a.Seconds).ToList();
        var lastFailure = afterFault.LastOrDefault(a => a.Status is 0 or >= 500).Seconds;
        var backAt = lastFailure == 0 ? faultAt!.Value : afterFault.FirstOrDefault(a => a.Seconds > lastFailure && a.Status == 202).Seconds;
        return new FaultFigures(
            fault.Name,
            answers.GroupBy(a => a.Status == 0 ? "no answer" : a.Status.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            load.Ok,
            SecondsUntilPurchasesAccepted: backAt == 0 ? null : Math.Round(backAt - faultAt!.Value, 1),
            SecondsFromHealthyToAccepted: backAt == 0 ? null : Math.Round(Math.Max(0, backAt - healthyAt!.Value), 1),
            SecondsUntilComponentHealthy: Math.Round(healthyAt!.Value - faultAt!.Value, 1),
            SecondsUntilEveryPurchaseDecided: Math.Round(decidedAt - faultAt.Value, 1),
            SecondsToDecideAfterTheLoad: Math.Round(decidedAt - loadEnded, 1),
            undecided,
            violations);
    }

    /// <summary>Holds one ticket and buys it, retrying the purchase with the same key until an answer that is not a failure.</summary>
    private static Func<int, CancellationToken, ValueTask<Outcome?>> BuyRetrying(BenchRun run, BenchCampaign campaign, HttpClient http, BuyerPool buyers, Action<int> answered)
    {
        var web = run.Target.Web;
        var holdPath = $"/api/campaigns/{campaign.Id}/holds";
        var holdBody = SaleRequests.GeneralAdmissionHoldBody(campaign.GeneralAdmissionId!.Value, 1);
        return async (_, cancellationToken) =>
        {
            var buyer = buyers.Next();
            var (holdStatus, holdAnswer, _) = await TrySendAsync(http, SaleRequests.Post(web, holdPath, buyer.Authorization, holdBody), cancellationToken);
            answered((int?)holdStatus ?? 0);
            Guid? hold;
            using (holdAnswer)
            {
                hold = SaleRequests.GuidProperty(holdAnswer, "holdId");
            }

            if (holdStatus != HttpStatusCode.Created || hold is null)
            {
                return holdStatus is { } refused ? Outcomes.Of(refused) : Outcome.Error;
            }

            var key = Guid.NewGuid().ToString("N");
            var purchaseBody = SaleRequests.PurchaseBody(campaign.Id, hold.Value);
            for (var attempt = 0; attempt < 60 && !cancellationToken.IsCancellationRequested; attempt++)
            {
                var (status, answer, retryAfter) = await TrySendAsync(http, SaleRequests.Post(web, "/api/purchases", buyer.Authorization, purchaseBody, key), cancellationToken);
                answered((int?)status ?? 0);
                using (answer)
                {
                    if (status == HttpStatusCode.Accepted && SaleRequests.GuidProperty(answer, "purchaseId") is { } purchase)
                    {
                        run.AcceptedPurchases.Add(purchase);
                        return Outcome.Ok;
                    }
                }

                if (status is { } final && (int)final < 500 && final != HttpStatusCode.TooManyRequests)
                {
                    return Outcomes.Of(final);
                }

                await Task.Delay(retryAfter ?? TimeSpan.FromSeconds(1), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            return Outcome.Error;
        };
    }

    /// <summary>A request that may get no answer at all (a connection refused or reset, a timeout): null then.</summary>
    private static async Task<(HttpStatusCode? Status, System.Text.Json.JsonDocument? Body, TimeSpan? RetryAfter)> TrySendAsync(
        HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await SaleRequests.SendReadingRetryAfterAsync(http, request, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return (null, null, null);
        }
    }

    public sealed record FaultFigures(
        string Fault,
        IReadOnlyDictionary<string, int> AnswersByStatus,
        long PairsCompleted,
        double? SecondsUntilPurchasesAccepted,
        double? SecondsFromHealthyToAccepted,
        double SecondsUntilComponentHealthy,
        double SecondsUntilEveryPurchaseDecided,
        double SecondsToDecideAfterTheLoad,
        int Undecided,
        IReadOnlyList<string> Violations);
}
