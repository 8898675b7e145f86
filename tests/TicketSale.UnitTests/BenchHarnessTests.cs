using TicketSale.Bench;
using TicketSale.Bench.Load;
using TicketSale.Bench.Reporting;
using TicketSale.Bench.Scenarios;

namespace TicketSale.UnitTests;

/// <summary>The bench's own logic: reading wrk's summary, and choosing seats the way a buyer does.</summary>
public sealed class BenchHarnessTests
{
    private const string WrkOutput = """
        Running 10s test @ http://127.0.0.1:5001
          2 threads and 256 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency     4.21ms    2.10ms  61.33ms   88.12%
            Req/Sec    30.51k     2.01k   35.10k    70.00%
          Latency Distribution
             50%    3.90ms
             75%    5.01ms
             90%  850.00us
             99%    1.20s
          607120 requests in 10.02s, 96.70MB read
          Socket errors: connect 0, read 3, write 0, timeout 2
          Non-2xx or 3xx responses: 120
        Requests/sec:  60590.82
        Transfer/sec:      9.65MB
        """;

    [Fact]
    public async Task The_cpu_meter_gives_each_tracked_process_its_own_time_and_the_load_client_the_rest()
    {
        using var busy = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh", ["-c", "while :; do :; done"]))!;
        try
        {
            var meter = new CpuMeter(() => new Dictionary<string, int> { ["busy"] = busy.Id });
            var self = System.Diagnostics.Process.GetCurrentProcess();
            self.Refresh();
            busy.Refresh();
            var (ownBefore, busyBefore) = (self.TotalProcessorTime, busy.TotalProcessorTime);
            var before = meter.Snapshot();

            var spin = System.Diagnostics.Stopwatch.StartNew();
            while (spin.ElapsedMilliseconds < 400)
            {
                Thread.SpinWait(1000);
            }

            await Task.Delay(200);
            var after = meter.Snapshot();
            self.Refresh();
            busy.Refresh();
            var (own, busyTime) = ((self.TotalProcessorTime - ownBefore).TotalSeconds, (busy.TotalProcessorTime - busyBefore).TotalSeconds);

            // /proc counts in hundredths of a second, sampled a moment apart from Process's figures.
            Assert.True(busyTime > 0.05, $"the busy loop got {busyTime} s");
            Assert.Equal(busyTime, after["busy"] - before["busy"], 0.05);
            Assert.Equal(own, after[CpuMeter.LoadClient] - before[CpuMeter.LoadClient], 0.05);
        }
        finally
        {
            busy.Kill();
        }
    }

    [Fact]
    public void Wrk_summary_gives_rate_percentiles_in_milliseconds_and_errors()
    {
        var result = Wrk.Parse("holds · wrk", 256, WrkOutput);

        Assert.Equal(607120, result.Requests);
        Assert.Equal(60590.82, result.PerSecond);
        Assert.Equal(10.02, result.Seconds);
        Assert.Equal(3.90, result.P50Ms, 3);
        Assert.Equal(0.85, result.P90Ms, 3);
        Assert.Equal(1200, result.P99Ms, 3);
        Assert.Equal(607120 - 120, result.Ok);
        Assert.Equal(120 + 5, result.Errors);
    }

    [Fact]
    public void Loads_measured_in_rounds_pair_up_round_by_round_and_the_verdict_takes_the_median_round()
    {
        static LoadResult Load(string name, int round, double okPerSecond, int connections = 256) =>
            new(name, connections, 10, (long)(okPerSecond * 10), okPerSecond, (long)(okPerSecond * 10), 0, 0, 0, 0, 1, 2, 3, 4, 5, []) { Round = round };
        LoadResult[] loads =
        [
            Load("empty", 1, 40_000), Load("holds", 1, 8_000), // 20%
            Load("empty", 2, 30_000), Load("holds", 2, 9_000), // 30%
            Load("empty", 3, 44_000), Load("holds", 3, 11_000), // 25%
            Load("holds", 1, 99_000, connections: 64), Load("empty", 1, 1, connections: 1024),
        ];

        var paired = Report.Paired(loads, "holds", "empty", 256)!.Value;

        Assert.Equal([0.20, 0.30, 0.25], paired.Rounds.Select(r => Math.Round(r.Ratio, 2)));
        Assert.Equal(3, paired.Median.A.Round);
        Assert.Equal(0.25, paired.Median.Ratio, 3);
        // Two rounds: the lower one, never a target rounded up.
        Assert.Equal(1, Report.Paired(loads.Where(l => l.Round < 3).ToList(), "holds", "empty", 256)!.Value.Median.A.Round);
        Assert.Null(Report.Paired(loads, "holds", "empty", 1024));
        Assert.Equal(70, Report.Median([50, 70, 90, 60], upper: true));
        Assert.Equal(60, Report.Median([50, 70, 90, 60], upper: false));
    }

    [Fact]
    public void Unreadable_wrk_output_is_an_error_not_a_zero()
    {
        Assert.Throws<InvalidOperationException>(() => Wrk.Parse("x", 1, "unable to connect to 127.0.0.1:1 Connection refused"));
    }

    [Fact]
    public void A_worker_waits_only_when_refused_with_a_retry_after_and_only_once()
    {
        var waits = new RetryAfterWaits(2);
        waits.Answered(0, System.Net.HttpStatusCode.Created, TimeSpan.FromSeconds(5));
        waits.Answered(1, System.Net.HttpStatusCode.ServiceUnavailable, null);
        Assert.Null(waits.Take(0));
        Assert.Null(waits.Take(1));

        waits.Answered(0, System.Net.HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(2));
        waits.Answered(1, System.Net.HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(2), waits.Take(0));
        Assert.Null(waits.Take(0));
        Assert.Equal(TimeSpan.FromSeconds(3), waits.Take(1));
    }

    [Fact]
    public async Task A_load_waits_as_told_between_requests_without_counting_the_wait_as_latency()
    {
        var waits = new RetryAfterWaits(1);
        var sent = new List<long>();
        var result = await LoadRunner.RunAsync("refused", 1, TimeSpan.FromSeconds(2), (worker, _) =>
        {
            sent.Add(System.Diagnostics.Stopwatch.GetTimestamp());
            waits.Answered(worker, System.Net.HttpStatusCode.ServiceUnavailable, TimeSpan.FromMilliseconds(300));
            return ValueTask.FromResult<Outcome?>(Outcome.Unavailable);
        }, retryAfter: waits);

        // Asked again at once, the worker would have made hundreds of thousands of requests. Only the lower bound of
        // each gap is the runner's doing; how much later the next request goes depends on how busy the machine is.
        Assert.True(sent.Count >= 2, $"{sent.Count} request(s) in 2 s with 300 ms waits");
        var gaps = sent.Zip(sent.Skip(1), (a, b) => System.Diagnostics.Stopwatch.GetElapsedTime(a, b).TotalMilliseconds).ToList();
        Assert.All(gaps, gap => Assert.True(gap >= 290, $"asked again after {gap:0} ms"));
        Assert.Equal(sent.Count, result.Requests);
        Assert.Equal(result.Requests, result.Unavailable);
        Assert.True(result.MaxMs < 100, $"The slowest request took {result.MaxMs} ms: the wait was counted");
    }

    [Fact]
    public async Task A_load_counts_nothing_that_completes_in_its_lead_in()
    {
        var calls = 0;
        var measuringCalls = 0;
        var callsWhenMeasuring = -1;
        var result = await LoadRunner.RunAsync("lead-in", 1, TimeSpan.FromMilliseconds(400), async (_, cancellationToken) =>
        {
            await Task.Delay(10, cancellationToken);
            Interlocked.Increment(ref calls);
            return Outcome.Ok;
        }, leadIn: TimeSpan.FromMilliseconds(400), measuring: () =>
        {
            measuringCalls++;
            callsWhenMeasuring = Volatile.Read(ref calls);
            return Task.CompletedTask;
        });

        Assert.Equal(1, measuringCalls);
        Assert.True(callsWhenMeasuring > 0, "Nothing ran before the measured part started");
        // One request may straddle the start of the measured part: it is counted, with its whole latency.
        Assert.InRange(result.Requests, calls - callsWhenMeasuring - 1, calls - callsWhenMeasuring);
        Assert.Equal(result.Requests, result.Ok);
        Assert.InRange(result.Seconds, 0.35, 1.5);
    }

    [Fact]
    public async Task A_load_whose_workers_finish_in_the_lead_in_measures_nothing_and_still_starts_its_measured_part()
    {
        var measuringCalls = 0;
        var result = await LoadRunner.RunAsync("nothing to send", 2, TimeSpan.FromSeconds(5), (_, _) => ValueTask.FromResult<Outcome?>(null),
            leadIn: TimeSpan.FromSeconds(5), measuring: () =>
            {
                measuringCalls++;
                return Task.CompletedTask;
            });

        Assert.Equal(1, measuringCalls);
        Assert.Equal(0, result.Requests);
        Assert.True(result.Seconds < 1, $"The load waited {result.Seconds} s with nothing to send");
    }

    [Fact]
    public void A_buyer_picks_free_seats_side_by_side_in_one_row()
    {
        var taken = new SeatBitmap(300);
        for (var s = 0; s < 300; s++)
        {
            // Every row full but for seats 40–42 of the second row.
            taken[s] = s is not (140 or 141 or 142);
        }

        Assert.Equal([140, 141, 142], FlashSale.PickAdjacent(taken, 3)!);
        Assert.Null(FlashSale.PickAdjacent(taken, 4));
    }

    [Fact]
    public void Without_adjacent_seats_a_buyer_takes_any_free_ones()
    {
        var taken = new SeatBitmap(Enumerable.Repeat((byte)0xFF, 25).ToArray(), 200);
        taken[5] = taken[150] = false;

        var pick = FlashSale.PickAdjacent(taken, 2);

        Assert.Equal([5, 150], pick!);
    }

    [Fact]
    public void A_page_reads_the_seat_maps_bitmap_first_seat_in_the_highest_bit()
    {
        // Seats 0, 9 and 17 of 20 taken, as GET /api/campaigns/{id}/seats sends them; the last byte's spare bits set.
        var taken = new SeatBitmap([0b1000_0000, 0b0100_0000, 0b0100_1111], 20);

        Assert.Equal([0, 9, 17], Enumerable.Range(0, 20).Where(s => taken[s]));
        Assert.Equal(17, taken.CountFree());

        taken[9] = false;
        taken[19] = true;
        Assert.Equal([0, 17, 19], Enumerable.Range(0, 20).Where(s => taken[s]));
        Assert.Equal(17, taken.CountFree());
    }

    [Fact]
    public void The_servers_latency_of_a_route_is_read_from_the_replicas_histograms_between_two_scrapes()
    {
        static string Scrape(int fast, int slow, int other) => $$"""
            http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="201",http_route="/h/",le="0.01"} {{fast}}
            http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="201",http_route="/h/",le="0.25"} {{fast + slow}}
            http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="201",http_route="/h/",le="+Inf"} {{fast + slow}}
            http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="409",http_route="/h/",le="0.01"} {{fast}}
            http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="409",http_route="/h/",le="0.25"} {{fast}}
            http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="409",http_route="/h/",le="+Inf"} {{fast}}
            http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/h/",le="0.01"} {{other}}
            http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="200",http_route="/other/",le="5"} {{other}}
            """;

        var before = ServerLatency.FromScrapes([Scrape(100, 0, 7), Scrape(50, 0, 7)], "POST", "/h/");
        // 2 replicas: 99 + 99 fast answers each since, and 2 slow ones.
        var after = ServerLatency.FromScrapes([Scrape(199, 1, 900), Scrape(149, 1, 900)], "POST", "/h/");
        var since = after.Since(before);

        Assert.Equal(398, since.Count);
        Assert.Equal(10, since.AtMostMs(50));
        Assert.Equal(250, since.AtMostMs(99.9));
        Assert.Null(after.Since(after).AtMostMs(99));
    }

    [Fact]
    public void The_jit_time_is_read_from_a_scrape_with_or_without_labels_and_its_absence_is_an_error()
    {
        Assert.Equal(1.25, JitWarmUp.CompilationSeconds("""
            # TYPE dotnet_jit_compilation_time_seconds_total counter
            dotnet_jit_compilation_time_seconds_total_other 9
            dotnet_jit_compilation_time_seconds_total{otel_scope_name="System.Runtime"} 1.25 1733161200000
            """));
        Assert.Equal(0.5, JitWarmUp.CompilationSeconds("dotnet_jit_compilation_time_seconds_total 0.5\n"));
        Assert.Throws<InvalidOperationException>(() => JitWarmUp.CompilationSeconds("dotnet_gc_collections_total 3\n"));
    }

    [Fact]
    public void The_apis_collections_over_a_run_are_the_difference_of_two_scrapes_and_missing_metrics_give_none()
    {
        static string Scrape(int gen0, int gen1, int gen2, string pause, long allocated) => $$"""
            # TYPE dotnet_gc_collections_total counter
            dotnet_gc_collections_total{otel_scope_name="System.Runtime",gc_heap_generation="gen2"} {{gen2}} 1733161200000
            dotnet_gc_collections_total{otel_scope_name="System.Runtime",gc_heap_generation="gen1"} {{gen1}}
            dotnet_gc_collections_total{otel_scope_name="System.Runtime",gc_heap_generation="gen0"} {{gen0}}
            dotnet_gc_heap_total_allocated_bytes_total{otel_scope_name="System.Runtime"} {{allocated}}
            dotnet_gc_pause_time_seconds_total_other 99
            dotnet_gc_pause_time_seconds_total{otel_scope_name="System.Runtime"} {{pause}}
            """;

        var before = GcTotals.Parse(Scrape(68, 132, 9, "3.492107", 2_965_289_064))!;
        var after = GcTotals.Parse(Scrape(73, 217, 10, "3.986107", 2_965_289_064 + (1283L << 20)))!;
        var run = after.Since(before, TimeSpan.FromSeconds(10));

        Assert.Equal(new GcFigures(Collections: 91, Gen1: 85, Gen2: 1, PauseMs: 494, PausePercent: 4.94, AllocatedMb: 1283), run);
        Assert.Null(GcTotals.Parse("dotnet_jit_compilation_time_seconds_total 0.5\n"));
        Assert.Null(GcTotals.Parse(Scrape(1, 2, 3, "0.1", 5).Replace("dotnet_gc_pause_time_seconds_total{", "x{", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_warm_up_runs_rounds_until_the_servers_compile_less_than_two_percent_of_a_core()
    {
        // Scrapes before the first round and after each: 0, then +0.5 s, +0.2 s and +0.0001 s of JIT over rounds of at least 50 ms.
        var scrapes = new Queue<double>([0, 0.5, 0.7, 0.7001, 9]);
        using var http = new HttpClient(new ScriptedScrapes(scrapes));
        var rounds = 0;

        var (ran, share) = await JitWarmUp.RunAsync(http, [new Uri("http://127.0.0.1:1/")], async () =>
        {
            rounds++;
            await Task.Delay(50);
        });

        Assert.Equal(3, ran);
        Assert.Equal(3, rounds);
        Assert.InRange(share, 0, JitWarmUp.SettledShareOfCore);
        Assert.Single(scrapes);

        // A server that never settles ends the warm-up after the last round allowed, saying so.
        var busy = new Queue<double>([0, 1, 2, 3]);
        using var busyHttp = new HttpClient(new ScriptedScrapes(busy));
        var (busyRounds, busyShare) = await JitWarmUp.RunAsync(busyHttp, [new Uri("http://127.0.0.1:1/")], () => Task.Delay(10), maxRounds: 3);
        Assert.Equal(3, busyRounds);
        Assert.True(busyShare > JitWarmUp.SettledShareOfCore);
    }

    private sealed class ScriptedScrapes(Queue<double> seconds) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK)
            {
                Content = new StringContent(FormattableString.Invariant($"dotnet_jit_compilation_time_seconds_total {seconds.Dequeue()}\n")),
            });
    }
}
