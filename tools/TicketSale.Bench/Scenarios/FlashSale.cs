using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using HdrHistogram;
using TicketSale.Bench.Baselines;
using TicketSale.Bench.Load;

using TicketSale.Bench.Reporting;

namespace TicketSale.Bench.Scenarios;

/// <summary>
/// The sale the system exists for: reserved seats and general admission, and a herd of buyers arriving in a burst,
/// each going through the waiting room, holding (another choice on 409), buying and waiting for the outcome.
/// The same buyers then meet the <c>SELECT … FOR UPDATE</c> design, which has no waiting room and no holds.
/// </summary>
public static class FlashSale
{
    private const int SeatsPerRow = 100;
    private const string HoldRoute = "/api/campaigns/{campaignId:guid}/holds/";

    /// <summary>
    /// The gateway's catch-all proxied route: its histogram of POSTs covers holds and purchases (waiting-room joins
    /// have a route of their own, the one the gateway limits).
    /// </summary>
    private const string GatewayRoute = "/api/{**catch-all}";
    private static readonly bool[] s_seatsFirst = [true, false];
    private static readonly bool[] s_generalAdmissionFirst = [false, true];
    private static readonly TimeSpan s_burstLead = TimeSpan.FromSeconds(5);

    public static async Task RunAsync(BenchRun run, double admissionsPerSecond)
    {
        var warmUp = await WarmUpAsync(run, admissionsPerSecond);
        var options = run.Options;
        var target = run.Target;
        var opensAt = OpeningTime(options, options.Burst);
        var campaign = await target.NewCampaignAsync("Flash sale", rows: options.ReservedSeats / SeatsPerRow, generalAdmission: options.GeneralAdmission,
            perUserLimit: 4, holdSeconds: 120, waitingRoom: true, admissionsPerSecond: admissionsPerSecond, opensAt: opensAt);
        run.Campaigns.Add(campaign);
        var buyers = new BuyerPool(target, options.Buyers, TimeSpan.FromHours(1));
        using var http = new BuyerConnections();
        var stats = new SaleStats();
        var web = target.Web;
        var serverBefore = await ServerLatency.ScrapeAsync(target.OperatorHttp, target.Apis, "POST", HoldRoute);
        var gatewayBefore = await ServerLatency.ScrapeAsync(target.OperatorHttp, [web], "POST", GatewayRoute);
        var bar = run.Phase($"flash sale: {options.Buyers:N0} buyers, {campaign.Seats:N0} seats + {campaign.GeneralAdmissionCapacity:N0} GA", options.Buyers);
        await UntilBurstAsync(opensAt, options.Burst);
        var cpu = run.Cpu.Snapshot();
        var (gen1Before, gen2Before) = (GC.CollectionCount(1), GC.CollectionCount(2));
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        using var soldOutWatch = new CancellationTokenSource();
        var soldOut = WatchSellOutAsync(target, campaign, clock, soldOutWatch.Token);
        var timeline = SampleTimeline(stats, clock, soldOutWatch.Token);
        var lag = ProbeClientLagAsync(stats.ClientLag, soldOutWatch.Token);

        await SellAsync(run, http, campaign, buyers, options.Burst, stats, bar);

        var buyersDone = clock.Elapsed;
        var server = (await ServerLatency.ScrapeAsync(target.OperatorHttp, target.Apis, "POST", HoldRoute)).Since(serverBefore);
        var gateway = (await ServerLatency.ScrapeAsync(target.OperatorHttp, [web], "POST", GatewayRoute)).Since(gatewayBefore);
        var sellOut = await soldOut.WaitAsync(TimeSpan.FromSeconds(120)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default);
        await soldOutWatch.CancelAsync();
        var points = await timeline;
        await lag;
        var sales = await target.AdminAsync(HttpMethod.Get, $"/api/admin/campaigns/{campaign.Id}/sales", null);
        run.Add(LoadResult.From("flash sale · holds (through the gateway)", BuyerConnections.SaleConnections, buyersDone, stats.Holds, stats.HoldCounts(), points), cpu, clock.Elapsed);
        run.Figures["flashSale"] = new FlashSaleFigures
        {
            Buyers = options.Buyers,
            BurstSeconds = options.Burst.TotalSeconds,
            WarmUp = JitWarmUp.Figure(warmUp),
            SaleOpens = opensAt is null ? "before the burst" : "as the burst ends",
            StartedAt = started,
            ReservedSeats = campaign.Seats,
            GeneralAdmission = campaign.GeneralAdmissionCapacity,
            AdmissionsPerSecond = admissionsPerSecond,
            SeatsSold = (int)sales["seatsSold"]!,
            GeneralAdmissionSold = sales["generalAdmission"]!.AsArray().Sum(g => (int)g!["sold"]!),
            SoldOut = sellOut is not null,
            SecondsToSellOut = sellOut is { } s ? Math.Round(s.TotalSeconds, 2) : null,
            SecondsUntilEveryBuyerDone = Math.Round(buyersDone.TotalSeconds, 2),
            HoldP50Ms = Milliseconds(stats.Holds, 50),
            HoldP99Ms = Milliseconds(stats.Holds, 99),
            HoldMaxMs = stats.Holds.TotalCount == 0 ? 0 : stats.Holds.GetMaxValue() / 1000.0,
            HoldAttempts = stats.Holds.TotalCount,
            HoldServerSideCount = server.Count,
            HoldServerSideP50AtMostMs = server.AtMostMs(50),
            HoldServerSideP99AtMostMs = server.AtMostMs(99),
            GatewayPostsP50AtMostMs = gateway.AtMostMs(50),
            GatewayPostsP99AtMostMs = gateway.AtMostMs(99),
            ClientSchedulingLagP99Ms = Milliseconds(stats.ClientLag, 99),
            ClientSchedulingLagMaxMs = stats.ClientLag.TotalCount == 0 ? 0 : stats.ClientLag.GetMaxValue() / 1000.0,
            ClientGcPauseMs = Math.Round(points.Sum(p => p.ClientGcPauseMs), 1),
            ClientGcPauseWorstSecondMs = points.Count == 0 ? 0 : points.Max(p => p.ClientGcPauseMs),
            ClientGen1Collections = GC.CollectionCount(1) - gen1Before - (GC.CollectionCount(2) - gen2Before),
            ClientGen2Collections = GC.CollectionCount(2) - gen2Before,
            HoldsDuringClientGcPause = stats.Holds.TotalCount - stats.HoldsClientNeverPaused.TotalCount,
            HoldP99WithoutClientGcPauseMs = Milliseconds(stats.HoldsClientNeverPaused, 99),
            PurchaseAcceptP99Ms = Milliseconds(stats.Purchases, 99),
            OutcomeSeenP50Ms = Milliseconds(stats.OutcomeSeen, 50),
            OutcomeSeenP99Ms = Milliseconds(stats.OutcomeSeen, 99),
            WaitingRoomWaitP50Ms = Milliseconds(stats.Waits, 50),
            WaitingRoomWaitP99Ms = Milliseconds(stats.Waits, 99),
            Outcomes = stats.OutcomeCounts(),
            Requests = stats.RequestCounts(),
            PeakRequestsInFlight = new Dictionary<string, int>
            {
                [$"waiting room (of {BuyerConnections.RoomConnections} connections)"] = stats.PeakInFlight(http.Room),
                [$"seat maps, holds and purchases (of {BuyerConnections.SaleConnections})"] = stats.PeakInFlight(http.Sale),
                [$"purchase status (of {BuyerConnections.StatusConnections})"] = stats.PeakInFlight(http.Status),
            },
        };
    }

    /// <summary>
    /// Small sales, each on its own campaign, before the measured one, whose figures are not kept (their purchases
    /// are, for the invariant check). Freshly started, each .NET process spends its first half-minute under load
    /// compiling its hot methods again, optimized: perf caught tiered compilation at a quarter of this machine's CPU
    /// during the first 30 s of the flash sale, and still at a tenth after one warm-up sale. A real sale opens on
    /// services that have been running, so sales are run until the gateway and the Api replicas compile less than
    /// <see cref="JitWarmUp.SettledShareOfCore"/> of a core over one (the Worker yields its CPU to them anyway).
    /// </summary>
    private static async Task<(int Rounds, double LastShareOfCore)> WarmUpAsync(BenchRun run, double admissionsPerSecond)
    {
        var buyers = Math.Min(run.Options.Buyers, 4_000);
        var burst = TimeSpan.FromSeconds(4);
        var round = 0;
        return await JitWarmUp.RunAsync(run.Target.OperatorHttp, [run.Target.Web, .. run.Target.Apis], async () =>
        {
            round++;
            var opensAt = OpeningTime(run.Options, burst);
            var campaign = await run.Target.NewCampaignAsync($"Warm-up sale {round}", rows: Math.Max(1, buyers / 4 / SeatsPerRow), generalAdmission: buyers / 4,
                perUserLimit: 4, holdSeconds: 120, waitingRoom: true, admissionsPerSecond: admissionsPerSecond, opensAt: opensAt);
            run.Campaigns.Add(campaign);
            using var http = new BuyerConnections();
            var pool = new BuyerPool(run.Target, buyers, TimeSpan.FromHours(1));
            await UntilBurstAsync(opensAt, burst);
            await SellAsync(run, http, campaign, pool, burst, new SaleStats(), run.Phase($"warm-up sale {round}: {buyers:N0} buyers (not measured)", buyers));

            // The compiler works in the background for a little while after the calls that triggered it.
            await Task.Delay(TimeSpan.FromSeconds(5));
        }, maxRounds: 4);
    }

    /// <summary>
    /// When the sale opens: by default as the burst of arrivals ends (the herd comes in the seconds before the on-sale
    /// time and waits in the pre-queue, whose places are drawn at the opening); null for a sale already open.
    /// The burst starts a few seconds after the campaign is created (the buyers' tokens are minted meanwhile).
    /// </summary>
    private static DateTimeOffset? OpeningTime(BenchOptions options, TimeSpan burst) =>
        options.OpenBeforeBurst ? null : DateTimeOffset.UtcNow + s_burstLead + burst;

    private static async Task UntilBurstAsync(DateTimeOffset? opensAt, TimeSpan burst)
    {
        if (opensAt is { } opening && opening - burst - DateTimeOffset.UtcNow is { Ticks: > 0 } wait)
        {
            await Task.Delay(wait);
        }
    }

    private static Task SellAsync(BenchRun run, BuyerConnections http, BenchCampaign campaign, BuyerPool buyers, TimeSpan burst, SaleStats stats, Spectre.Console.ProgressTask bar) =>
        Task.WhenAll(Enumerable.Range(0, buyers.Count).Select(async i =>
        {
            await Task.Delay(burst * i / buyers.Count);
            try
            {
                await BuyAsync(http, run.Target.Web, campaign, buyers[i], stats, run);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
            {
                stats.Count("error: " + ex.GetType().Name);
            }

            bar.Increment(1);
        }));

    private static double Milliseconds(HistogramBase histogram, double percentile) =>
        histogram.TotalCount == 0 ? 0 : Math.Round(histogram.GetValueAtPercentile(percentile) / 1000.0, 2);

    private static async Task BuyAsync(BuyerConnections http, Uri web, BenchCampaign campaign, Buyer buyer, SaleStats stats, BenchRun run)
    {
        var authorization = buyer.Authorization;
        var arrived = Stopwatch.GetTimestamp();
        var (status, body) = await WaitingRoomAsync(http, stats, () => SaleRequests.Post(web, $"/api/campaigns/{campaign.Id}/waiting-room", authorization, "{}"));
        string? admission = null;
        while (true)
        {
            int pollAfterSeconds;
            using (body)
            {
                if (status != HttpStatusCode.OK || body is null)
                {
                    stats.Count($"waiting room {(int)status}");
                    return;
                }

                var state = body.RootElement.GetProperty("state").GetString();
                if (state == "Admitted")
                {
                    admission = body.RootElement.GetProperty("admissionToken").GetString();
                    break;
                }

                if (state != "Waiting" && state != "PreQueue")
                {
                    stats.Count(state == "SoldOut" ? "sold out (told by the waiting room)" : $"waiting room: {state}");
                    return;
                }

                pollAfterSeconds = body.RootElement.GetProperty("pollAfterSeconds").GetInt32();
            }

            // The answer is let go before the wait: kept through it, 42,000 answers and their pooled buffers were alive
            // at once in the load client mid-sale (a GC dump), each promoted to gen2 before it was dropped.
            await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, pollAfterSeconds)));
            (status, body) = await WaitingRoomAsync(http, stats, () => SaleRequests.Get(web, $"/api/campaigns/{campaign.Id}/waiting-room", authorization));
        }

        stats.Waits.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(arrived).TotalMicroseconds));
        var wanted = 1 + Random.Shared.Next(4);
        var hold = await HoldSomethingAsync(http, web, campaign, authorization, admission, wanted, stats);
        if (hold is null)
        {
            // Nothing to be had: the buyer closes the page, which tells the waiting room it is done (the next in line
            // come in for whatever is left instead of waiting for this buyer's shopping window to run out).
            (_, body) = await stats.SendAsync("waiting room leave", http.Room, SaleRequests.Delete(web, $"/api/campaigns/{campaign.Id}/waiting-room", authorization));
            body?.Dispose();
            return;
        }

        var started = Stopwatch.GetTimestamp();
        (status, body) = await stats.SendAsync("purchase", http.Sale,
            SaleRequests.Post(web, "/api/purchases", authorization, SaleRequests.PurchaseBody(campaign.Id, hold.Value), Guid.NewGuid().ToString("N")));
        stats.Purchases.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
        Guid? purchase;
        using (body)
        {
            purchase = SaleRequests.GuidProperty(body, "purchaseId");
        }

        if (status != HttpStatusCode.Accepted || purchase is null)
        {
            stats.Count($"purchase {(int)status}");
            return;
        }

        run.AcceptedPurchases.Add(purchase.Value);
        var accepted = Stopwatch.GetTimestamp();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
            (status, body) = await stats.SendAsync("purchase status", http.Status, SaleRequests.Get(web, $"/api/purchases/{purchase}", authorization));
            using (body)
            {
                var outcome = status == HttpStatusCode.OK ? body?.RootElement.GetProperty("status").GetString() : null;
                if (outcome is "Confirmed" or "Failed")
                {
                    stats.OutcomeSeen.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(accepted).TotalMicroseconds));
                    stats.Count("purchase " + outcome.ToLowerInvariant());
                    return;
                }
            }
        }

        stats.Count("purchase still pending after 2 minutes");
    }

    /// <summary>
    /// A waiting-room request, asked again after the Retry-After of a 503 or 429 (the gateway turns away what it
    /// cannot take at once; the visitor's page waits as told and asks again).
    /// </summary>
    private static async Task<(HttpStatusCode Status, JsonDocument? Body)> WaitingRoomAsync(BuyerConnections http, SaleStats stats, Func<HttpRequestMessage> request)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (status, body, retryAfter) = await stats.SendReadingRetryAfterAsync("waiting room", http.Room, request());
            if (status is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests) || retryAfter is not { } wait || attempt == 30)
            {
                return (status, body);
            }

            body?.Dispose();
            stats.CountRequest($"waiting room {(int)status}, asked again");
            await Task.Delay(wait);
        }
    }

    /// <summary>
    /// Seats or general admission, whichever the buyer prefers, then the other, as the sale page shows them (the seat
    /// map and the general-admission tickets left, loaded on arrival, reloaded every fourth try): seats side by side
    /// in a row, and on 409 other seats (the answer names those taken); fewer than wanted when fewer are left;
    /// nothing tried where the page says none are left. After a refusal the buyer takes a moment to choose again,
    /// as a person does (<see cref="ThinkTime"/>): retrying within microseconds, 50,000 simulated buyers made a
    /// storm of refusals at the end of the sale that no crowd of people could.
    /// </summary>
    private static async Task<Guid?> HoldSomethingAsync(BuyerConnections http, Uri web, BenchCampaign campaign, string authorization, string? admission, int wanted, SaleStats stats)
    {
        var preferSeats = campaign.Seats > 0 && Random.Shared.Next(3) < 2;
        var page = await SeatMapAsync(http.Sale, web, campaign, authorization, stats);
        var tried = false;
        foreach (var seats in preferSeats ? s_seatsFirst : s_generalAdmissionFirst)
        {
            if (seats ? campaign.Seats == 0 : campaign.GeneralAdmissionId is null || page.GeneralAdmissionLeft <= 0)
            {
                continue;
            }

            var quantity = seats ? wanted : Math.Min(wanted, page.GeneralAdmissionLeft);
            for (var attempt = 0; attempt < 8; attempt++)
            {
                if (tried)
                {
                    await Task.Delay(ThinkTime());
                }

                tried = true;
                string body;
                if (seats)
                {
                    if (attempt % 4 == 3)
                    {
                        page = await SeatMapAsync(http.Sale, web, campaign, authorization, stats);
                    }

                    var pick = PickAdjacent(page.Taken, quantity);
                    if (pick is null && page.Taken.CountFree() is > 0 and var free)
                    {
                        // Fewer seats left than wanted: the buyer takes what there is.
                        quantity = free;
                        pick = PickAdjacent(page.Taken, quantity);
                    }

                    if (pick is null)
                    {
                        break;
                    }

                    body = SaleRequests.SeatsHoldBody(pick);
                }
                else
                {
                    body = SaleRequests.GeneralAdmissionHoldBody(campaign.GeneralAdmissionId!.Value, quantity);
                }

                var started = Stopwatch.GetTimestamp();
                var clientPausedBefore = GC.GetTotalPauseDuration();
                var (status, answer) = await stats.SendAsync("hold", http.Sale, SaleRequests.Post(web, $"/api/campaigns/{campaign.Id}/holds", authorization, body, admission: admission));
                stats.RecordHold(Stopwatch.GetElapsedTime(started), status, clientPaused: GC.GetTotalPauseDuration() != clientPausedBefore);
                using (answer)
                {
                    if (status == HttpStatusCode.Created)
                    {
                        return SaleRequests.GuidProperty(answer, "holdId");
                    }

                    var problem = answer?.RootElement.ValueKind == JsonValueKind.Object && answer.RootElement.TryGetProperty("type", out var type) ? type.GetString() ?? "" : "";
                    if (status == HttpStatusCode.Conflict && problem.EndsWith("seats-taken", StringComparison.Ordinal)
                        && answer!.RootElement.TryGetProperty("takenSeats", out var takenSeats))
                    {
                        foreach (var seat in takenSeats.EnumerateArray())
                        {
                            page.Taken[seat.GetInt32()] = true;
                        }

                        continue;
                    }

                    if (status == HttpStatusCode.Conflict && problem.EndsWith("sold-out", StringComparison.Ordinal)
                        && answer!.RootElement.TryGetProperty("left", out var left) && left.GetInt32() is > 0 and var fewer && fewer < quantity)
                    {
                        quantity = fewer;
                        continue;
                    }

                    if (status != HttpStatusCode.Conflict)
                    {
                        stats.Count($"hold {(int)status}");
                        return null;
                    }

                    break;
                }
            }
        }

        stats.Count("sold out (at the hold)");
        return null;
    }

    private sealed record SalePage(SeatBitmap Taken, int GeneralAdmissionLeft);

    /// <summary>Between half a second and a second and a half: looking at the map again and clicking.</summary>
    private static TimeSpan ThinkTime() => TimeSpan.FromMilliseconds(500 + Random.Shared.Next(1000));

    private static async Task<SalePage> SeatMapAsync(HttpClient http, Uri web, BenchCampaign campaign, string authorization, SaleStats stats)
    {
        var (status, body) = await stats.SendAsync("seat map", http, SaleRequests.Get(web, $"/api/campaigns/{campaign.Id}/seats", authorization));
        using (body)
        {
            if (status != HttpStatusCode.OK || body is null)
            {
                // Unknown: the buyer tries anyway, and the answers tell.
                return new SalePage(new SeatBitmap(campaign.Seats), campaign.GeneralAdmissionCapacity);
            }

            var taken = new SeatBitmap(Convert.FromBase64String(body.RootElement.GetProperty("taken").GetString()!), campaign.Seats);

            var generalAdmission = body.RootElement.GetProperty("generalAdmission");
            return new SalePage(taken, generalAdmission.GetArrayLength() == 0 ? 0 : generalAdmission[0].GetProperty("left").GetInt32());
        }
    }

    /// <summary>
    /// A random row with <paramref name="count"/> free seats side by side, from a random place in it; any free seats
    /// if no row has them. The load client runs this for every attempt of 50,000 buyers on the same cores as the
    /// system, so it scans each row once (the free run starting at each seat) and allocates only its answer.
    /// </summary>
    public static int[]? PickAdjacent(SeatBitmap taken, int count)
    {
        var rows = taken.Length / SeatsPerRow;
        var start = Random.Shared.Next(Math.Max(rows, 1));
        Span<int> freeRun = stackalloc int[SeatsPerRow + 1];
        for (var r = 0; r < rows; r++)
        {
            var first = ((start + r) % rows) * SeatsPerRow;
            freeRun[SeatsPerRow] = 0;
            for (var i = SeatsPerRow - 1; i >= 0; i--)
            {
                freeRun[i] = taken[first + i] ? 0 : freeRun[i + 1] + 1;
            }

            var positions = SeatsPerRow - count + 1;
            var offset = Random.Shared.Next(SeatsPerRow);
            for (var i = 0; i < positions; i++)
            {
                var at = (offset + i) % positions;
                if (freeRun[at] >= count)
                {
                    return [.. Enumerable.Range(first + at, count)];
                }
            }
        }

        var free = new List<int>(count);
        for (var s = 0; s < taken.Length && free.Count < count; s++)
        {
            if (!taken[s])
            {
                free.Add(s);
            }
        }

        return free.Count == count ? [.. free] : null;
    }

    private static async Task<TimeSpan?> WatchSellOutAsync(BenchTarget target, BenchCampaign campaign, Stopwatch clock, CancellationToken cancellationToken)
    {
        var capacity = campaign.Seats + campaign.GeneralAdmissionCapacity;
        while (!cancellationToken.IsCancellationRequested)
        {
            var sold = await target.ScalarAsync(
                "SELECT (SELECT count(*) FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\" AND \"SeatIndex\" IS NOT NULL) + (SELECT coalesce(sum(\"Sold\"), 0) FROM \"GeneralAdmissionCategories\" WHERE \"CampaignId\" = $1)",
                campaign.Id);
            if (sold >= capacity)
            {
                return clock.Elapsed;
            }

            await Task.Delay(500, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        return null;
    }

    /// <summary>
    /// How late work queued in the load client starts: the client's own backlog, which every latency it measures
    /// includes. When it is large, the client is what saturates, not the system.
    /// </summary>
    private static async Task ProbeClientLagAsync(HistogramBase lag, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var queued = Stopwatch.GetTimestamp();
            await Task.Run(() => lag.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(queued).TotalMicroseconds)), CancellationToken.None);
            await Task.Delay(100, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static async Task<List<TimelinePoint>> SampleTimeline(SaleStats stats, Stopwatch clock, CancellationToken cancellationToken)
    {
        var points = new List<TimelinePoint>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var paused = GC.GetTotalPauseDuration();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                // A GC pause of the load client stops its threads but not the wall clock: every request in flight
                // during one is measured that much slower than the system served it.
                var pausedNow = GC.GetTotalPauseDuration();
                var pausedThisSecond = pausedNow - paused;
                paused = pausedNow;
                var interval = stats.HoldRecorder.GetIntervalHistogram();
                points.Add(new TimelinePoint(clock.Elapsed.TotalSeconds, interval.TotalCount,
                    interval.TotalCount == 0 ? 0 : interval.GetValueAtPercentile(50) / 1000.0, interval.TotalCount == 0 ? 0 : interval.GetValueAtPercentile(99) / 1000.0, Math.Round(pausedThisSecond.TotalMilliseconds, 1)));
            }
        }
        catch (OperationCanceledException)
        {
        }

        return points;
    }

    /// <summary>
    /// The same buyers against the synchronous design: no waiting room, no holds; each picks seats (from a perfectly
    /// fresh view of what is sold, an advantage the real design would not have) or general admission and buys.
    /// </summary>
    public static async Task RunBaselineAsync(BenchRun run, BaselineServerProcess server)
    {
        var options = run.Options;
        var (campaign, category) = await HotPath.BaselineCampaignAsync(run, options.GeneralAdmission, options.ReservedSeats);
        var taken = new SeatBitmap(options.ReservedSeats);
        var gaLeft = options.GeneralAdmission;
        using var http = BenchTarget.NewClient(1024);
        var latencies = LoadRunner.NewRecorder();
        var counts = new long[Enum.GetValues<Outcome>().Length];
        var outcomes = new ConcurrentDictionary<string, int>();
        var bar = run.Phase($"flash sale · SELECT … FOR UPDATE: {options.Buyers:N0} buyers", options.Buyers);
        var cpu = run.Cpu.Snapshot();
        var clock = Stopwatch.StartNew();
        TimeSpan? soldOutAt = null;
        var ticketsSold = 0;
        var path = $"/baseline/campaigns/{campaign}/purchases";
        await Task.WhenAll(Enumerable.Range(0, options.Buyers).Select(async i =>
        {
            await Task.Delay(options.Burst * i / options.Buyers);
            var wanted = 1 + Random.Shared.Next(4);
            var outcome = "sold out";
            foreach (var seats in Random.Shared.Next(3) < 2 ? s_seatsFirst : s_generalAdmissionFirst)
            {
                for (var attempt = 0; attempt < 8; attempt++)
                {
                    string body;
                    int[]? pick = null;
                    if (seats)
                    {
                        lock (taken)
                        {
                            pick = PickAdjacent(taken, wanted);
                        }

                        if (pick is null)
                        {
                            break;
                        }

                        body = $$"""{"seats":[{{string.Join(',', pick)}}],"quantity":0}""";
                    }
                    else
                    {
                        if (Volatile.Read(ref gaLeft) <= 0)
                        {
                            break;
                        }

                        body = $$"""{"generalAdmissionCategoryId":"{{category}}","quantity":{{Math.Min(wanted, Math.Max(1, Volatile.Read(ref gaLeft)))}}}""";
                    }

                    var started = Stopwatch.GetTimestamp();
                    HttpStatusCode status;
                    try
                    {
                        var (answer, json) = await SaleRequests.SendAsync(http, SaleRequests.Post(server.Address, path, "Bearer -", body), CancellationToken.None);
                        json?.Dispose();
                        status = answer;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        status = HttpStatusCode.GatewayTimeout;
                    }

                    latencies.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
                    Interlocked.Increment(ref counts[(int)Outcomes.Of(status)]);
                    if (status == HttpStatusCode.Created)
                    {
                        var sold = pick?.Length ?? Math.Min(wanted, Math.Max(1, gaLeft));
                        if (seats)
                        {
                            lock (taken)
                            {
                                foreach (var s in pick!)
                                {
                                    taken[s] = true;
                                }
                            }
                        }
                        else
                        {
                            Interlocked.Add(ref gaLeft, -sold);
                        }

                        if (Interlocked.Add(ref ticketsSold, sold) >= options.ReservedSeats + options.GeneralAdmission)
                        {
                            soldOutAt ??= clock.Elapsed;
                        }

                        outcome = "bought";
                        goto done;
                    }

                    if (status == HttpStatusCode.Conflict && seats && pick is not null)
                    {
                        lock (taken)
                        {
                            // The baseline's answer names the taken seats only when it saw them; refresh from the database is not
                            // modelled, so mark the picked ones as unavailable to this buyer's next choice.
                            foreach (var s in pick)
                            {
                                taken[s] = true;
                            }
                        }

                        continue;
                    }

                    if (status != HttpStatusCode.Conflict)
                    {
                        outcome = $"error {(int)status}";
                        goto done;
                    }

                    break;
                }
            }

        done:
            outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            bar.Increment(1);
        }));

        var elapsed = clock.Elapsed;
        var histogram = latencies.GetIntervalHistogram();
        run.Add(LoadResult.From("flash sale · SELECT … FOR UPDATE purchases", 1024, elapsed, histogram, counts, []), cpu, elapsed);
        var soldInDatabase = await run.Target.ScalarAsync(
            "SELECT count(*) FROM baseline.tickets t JOIN baseline.orders o ON o.id = t.order_id WHERE o.campaign_id = $1", campaign);
        run.Figures["flashSaleForUpdate"] = new ForUpdateSaleFigures(options.Buyers, soldInDatabase, soldOutAt is not null,
            soldOutAt is { } s ? Math.Round(s.TotalSeconds, 2) : null, Math.Round(elapsed.TotalSeconds, 2),
            Math.Round(histogram.GetValueAtPercentile(50) / 1000.0, 2), Math.Round(histogram.GetValueAtPercentile(99) / 1000.0, 2), outcomes.ToDictionary());
    }
}

/// <summary>
/// The buyers' connections, one pool per kind of request. Each browser of a real sale has its own connections; in one
/// load client sharing a pool, a hold would wait for a connection behind other buyers' waiting-room polls, and its
/// latency would be the client's queue, not the system's.
/// </summary>
public sealed class BuyerConnections : IDisposable
{
    public const int RoomConnections = 1024;

    // Each buyer has connections of their own; a pool too small for the buyers acting at once makes them wait inside
    // the load client, and that wait is counted as the system's. 512 and 256 were: peaks of 628 and 416 in flight
    // (`./bench.sh --scenarios flash`). The figure peakRequestsInFlight says whether these are still enough.
    public const int SaleConnections = 2048;
    public const int StatusConnections = 1024;

    public HttpClient Room { get; } = BenchTarget.NewClient(RoomConnections);

    /// <summary>Seat maps, holds and purchases.</summary>
    public HttpClient Sale { get; } = BenchTarget.NewClient(SaleConnections);

    public HttpClient Status { get; } = BenchTarget.NewClient(StatusConnections);

    public void Dispose()
    {
        Room.Dispose();
        Sale.Dispose();
        Status.Dispose();
    }
}

/// <summary>What the flash sale's buyers saw: latency histograms, requests by kind and how each buyer's attempt ended.</summary>
public sealed class SaleStats
{
    private readonly ConcurrentDictionary<string, int> _outcomes = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly long[] _holdCounts = new long[Enum.GetValues<Outcome>().Length];
    private readonly ConcurrentDictionary<HttpClient, InFlight> _inFlight = new();

    public HistogramBase Holds { get; } = LoadRunner.NewHistogram(threadSafe: true);

    public Recorder HoldRecorder { get; } = LoadRunner.NewRecorder();

    public HistogramBase Purchases { get; } = LoadRunner.NewHistogram(threadSafe: true);

    public HistogramBase ClientLag { get; } = LoadRunner.NewHistogram(threadSafe: true);

    /// <summary>From the purchase's 202 to the buyer's first look at its outcome (the buyer asks once a second).</summary>
    public HistogramBase OutcomeSeen { get; } = LoadRunner.NewHistogram(maxMicroseconds: 600_000_000, threadSafe: true);

    public HistogramBase Waits { get; } = LoadRunner.NewHistogram(maxMicroseconds: 3_600_000_000, threadSafe: true);

    /// <summary>Holds during which the load client did not pause for its own GC: a diagnosis of the instrument.</summary>
    public HistogramBase HoldsClientNeverPaused { get; } = LoadRunner.NewHistogram(threadSafe: true);

    public void RecordHold(TimeSpan latency, HttpStatusCode status, bool clientPaused)
    {
        var micros = Math.Max(1, (long)latency.TotalMicroseconds);
        Holds.RecordValue(micros);
        if (!clientPaused)
        {
            HoldsClientNeverPaused.RecordValue(micros);
        }

        HoldRecorder.RecordValue(micros);
        Interlocked.Increment(ref _holdCounts[(int)Outcomes.Of(status)]);
    }

    public long[] HoldCounts() => [.. _holdCounts];

    public void Count(string outcome) => _outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);

    public Dictionary<string, int> OutcomeCounts() => _outcomes.OrderByDescending(o => o.Value).ToDictionary();

    public Dictionary<string, int> RequestCounts() => _requests.OrderByDescending(o => o.Value).ToDictionary();

    public void CountRequest(string kind) => _requests.AddOrUpdate(kind, 1, (_, n) => n + 1);

    public Task<(HttpStatusCode Status, JsonDocument? Body)> SendAsync(string kind, HttpClient http, HttpRequestMessage request)
    {
        CountRequest(kind);
        return InFlightAsync(http, () => SaleRequests.SendAsync(http, request, CancellationToken.None));
    }

    public Task<(HttpStatusCode Status, JsonDocument? Body, TimeSpan? RetryAfter)> SendReadingRetryAfterAsync(string kind, HttpClient http, HttpRequestMessage request)
    {
        CountRequest(kind);
        return InFlightAsync(http, () => SaleRequests.SendReadingRetryAfterAsync(http, request, CancellationToken.None));
    }

    private async Task<T> InFlightAsync<T>(HttpClient http, Func<Task<T>> send)
    {
        var inFlight = _inFlight.GetOrAdd(http, _ => new InFlight());
        inFlight.Enter();
        try
        {
            return await send();
        }
        finally
        {
            inFlight.Exit();
        }
    }

    /// <summary>
    /// The most requests sent through <paramref name="http"/> at once: past its connection limit, a request waits
    /// inside the load client for a connection, and that wait is counted in its latency as if the system took it.
    /// </summary>
    public int PeakInFlight(HttpClient http) => _inFlight.TryGetValue(http, out var inFlight) ? inFlight.Peak : 0;

    private sealed class InFlight
    {
        private int _now;
        private int _peak;

        public int Peak => Volatile.Read(ref _peak);

        public void Enter()
        {
            var now = Interlocked.Increment(ref _now);
            for (var peak = Volatile.Read(ref _peak); now > peak; peak = Volatile.Read(ref _peak))
            {
                if (Interlocked.CompareExchange(ref _peak, now, peak) == peak)
                {
                    return;
                }
            }
        }

        public void Exit() => Interlocked.Decrement(ref _now);
    }
}
