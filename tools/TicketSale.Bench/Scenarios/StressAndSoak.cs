using System.Net;
using System.Threading.RateLimiting;
using TicketSale.Bench.Load;

using TicketSale.Bench.Reporting;

namespace TicketSale.Bench.Scenarios;

/// <summary>
/// A buyer's whole fast path as one operation — hold one general-admission ticket, then buy it — for the stress
/// ramp and the soak. A buyer refused with 503 or 429 waits the Retry-After before the next one.
/// </summary>
public static class StressAndSoak
{
    private static Func<int, CancellationToken, ValueTask<Outcome?>> HoldAndBuy(BenchRun run, BenchCampaign campaign, HttpClient http, BuyerPool buyers, RetryAfterWaits waits)
    {
        var api = run.Target.Apis[0];
        var holdPath = $"/api/campaigns/{campaign.Id}/holds";
        var holdBody = SaleRequests.GeneralAdmissionHoldBody(campaign.GeneralAdmissionId!.Value, 1);
        return async (worker, cancellationToken) =>
        {
            var buyer = buyers.Next();
            var (status, body, retryAfter) = await SaleRequests.SendReadingRetryAfterAsync(http, SaleRequests.Post(api, holdPath, buyer.Authorization, holdBody), cancellationToken);
            waits.Answered(worker, status, retryAfter);
            Guid? hold;
            using (body)
            {
                hold = SaleRequests.GuidProperty(body, "holdId");
            }

            if (status != HttpStatusCode.Created || hold is null)
            {
                return Outcomes.Of(status);
            }

            (status, body, retryAfter) = await SaleRequests.SendReadingRetryAfterAsync(http,
                SaleRequests.Post(api, "/api/purchases", buyer.Authorization, SaleRequests.PurchaseBody(campaign.Id, hold.Value), Guid.NewGuid().ToString("N")), cancellationToken);
            waits.Answered(worker, status, retryAfter);
            using (body)
            {
                if (status == HttpStatusCode.Accepted && SaleRequests.GuidProperty(body, "purchaseId") is { } purchase)
                {
                    run.AcceptedPurchases.Add(purchase);
                }
            }

            return Outcomes.Of(status);
        };
    }

    /// <summary>
    /// Doubles the connections until errors pass 1% or p99 passes 1 s; the knee is the best step before that. Each
    /// step starts from a settled system: the Worker decides the purchases a step accepted after it (it runs at a
    /// lower priority and takes the CPU the load leaves), and a backlog carried into the next step took that step's
    /// CPU (p99 697 ms at 128 connections, 556 ms at 256, in <c>./bench.sh --scenarios stress</c> without the settling).
    /// </summary>
    public static async Task StressAsync(BenchRun run)
    {
        var campaign = await run.Target.NewCampaignAsync("Stress", rows: 0, generalAdmission: 1_000_000, perUserLimit: 50, holdSeconds: 1200);
        run.Campaigns.Add(campaign);
        var buyers = new BuyerPool(run.Target, 50_000, TimeSpan.FromHours(3));
        var steps = new List<(LoadResult Load, TimeSpan Backlog)>();
        string? brokeBecause = null;
        for (var connections = 16; connections <= 8192 && brokeBecause is null; connections *= 2)
        {
            using var http = BenchTarget.NewClient(connections);
            var waits = new RetryAfterWaits(connections);
            var step = await run.LoadAsync($"stress · hold + purchase", connections, run.Options.StressStep, HoldAndBuy(run, campaign, http, buyers, waits), retryAfter: waits);
            steps.Add((step, await run.SettleAsync()));
            if (step.ErrorRate > 0.01)
            {
                brokeBecause = $"errors reached {step.ErrorRate:P1} at {connections} connections";
            }
            else if (step.P99Ms > 1000)
            {
                brokeBecause = $"p99 reached {step.P99Ms:N0} ms at {connections} connections";
            }
        }

        var healthy = steps.Select(s => s.Load).Where(s => s.ErrorRate <= 0.01 && s.P99Ms <= 1000).ToList();
        var knee = healthy.Count == 0 ? null : healthy.MaxBy(s => s.OkPerSecond);
        run.Figures["stress"] = new StressFigures(
            "hold one general-admission ticket, then buy it (two requests)",
            steps.Select(s => new StressStepFigures(s.Load.Connections, Math.Round(s.Load.OkPerSecond, 1), s.Load.P99Ms, Math.Round(s.Load.ErrorRate, 4),
                Math.Round(s.Backlog.TotalSeconds, 1))).ToList(),
            brokeBecause ?? "did not break up to 8,192 connections",
            knee?.Connections,
            knee is null ? null : Math.Round(knee.OkPerSecond, 1),
            knee?.P99Ms);
    }

    /// <summary>Steady load for a long time: latency and resident memory at the start and at the end.</summary>
    public static async Task SoakAsync(BenchRun run, double perSecond)
    {
        var campaign = await run.Target.NewCampaignAsync("Soak", rows: 0, generalAdmission: 1_000_000, perUserLimit: 50, holdSeconds: 1200);
        run.Campaigns.Add(campaign);
        var buyers = new BuyerPool(run.Target, 50_000, TimeSpan.FromHours(3));
        using var pace = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, (int)(perSecond / 10)),
            TokensPerPeriod = Math.Max(1, (int)(perSecond / 10)),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = 100_000,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        using var http = BenchTarget.NewClient(64);
        var before = run.Memory.Samples;
        var startedAt = before.Count == 0 ? 0 : before[^1].Seconds;
        var waits = new RetryAfterWaits(64);
        var result = await run.LoadAsync($"soak · hold + purchase at {perSecond:N0}/s", 64, run.Options.SoakDuration, HoldAndBuy(run, campaign, http, buyers, waits), pace, retryAfter: waits);
        var window = Math.Min(60, run.Options.SoakDuration.TotalSeconds / 4);
        double P99(IEnumerable<TimelinePoint> points) => points.Where(p => p.Requests > 0).Select(p => p.P99Ms).DefaultIfEmpty(0).Average();
        var samples = run.Memory.Samples.Where(s => s.Seconds >= startedAt).ToList();
        var end = samples.Count == 0 ? 0 : samples[^1].Seconds;
        var memory = samples.GroupBy(s => s.Process).ToDictionary(g => g.Key, g => new SoakMemoryFigures(
            Math.Round(g.Where(s => s.Seconds < startedAt + window).Select(s => s.Bytes).DefaultIfEmpty(0).Average() / 1048576.0, 1),
            Math.Round(g.Where(s => s.Seconds > end - window).Select(s => s.Bytes).DefaultIfEmpty(0).Average() / 1048576.0, 1),
            Math.Round(g.Max(s => s.Bytes) / 1048576.0, 1)));
        run.Figures["soak"] = new SoakFigures(run.Options.SoakDuration.TotalMinutes, perSecond, Math.Round(result.OkPerSecond, 1), Math.Round(result.ErrorRate, 5), window,
            Math.Round(P99(result.Timeline.Where(p => p.Seconds <= window)), 2), Math.Round(P99(result.Timeline.Where(p => p.Seconds > result.Seconds - window)), 2), memory);
    }
}
