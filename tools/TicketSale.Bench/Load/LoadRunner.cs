using System.Diagnostics;
using System.Net;
using HdrHistogram;

namespace TicketSale.Bench.Load;

/// <summary>What one request ended as, for throughput and error accounting.</summary>
public enum Outcome
{
    /// <summary>Did what was asked.</summary>
    Ok,

    /// <summary>A correct business refusal (seat taken, sold out): the system working, not failing.</summary>
    Rejected,

    /// <summary>429: a rate limit.</summary>
    Throttled,

    /// <summary>503: shed load or a dependency down.</summary>
    Unavailable,

    /// <summary>Anything else: a 5xx, a timeout, a broken connection.</summary>
    Error,
}

public static class Outcomes
{
    public static Outcome Of(HttpStatusCode status) => (int)status switch
    {
        >= 200 and < 300 => Outcome.Ok,
        409 or 404 or 403 => Outcome.Rejected,
        429 => Outcome.Throttled,
        503 => Outcome.Unavailable,
        _ => Outcome.Error,
    };
}

/// <summary>
/// A closed-loop load: a fixed number of workers, each sending its next request when the last one answered, for a
/// fixed time. Latencies go into one HdrHistogram recorder (microseconds), read every second for the timeline.
/// Coordinated omission is not corrected: at a fixed concurrency the reported latency is what each client waited.
/// </summary>
public static class LoadRunner
{
    /// <summary>Microseconds from 1 µs to <paramref name="maxMicroseconds"/> (2 minutes unless said), three significant digits.</summary>
    public static HistogramBase NewHistogram(long maxMicroseconds = 120_000_000, bool threadSafe = false)
    {
        var factory = HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(maxMicroseconds).WithPrecisionOf(3);
        return (threadSafe ? factory.WithThreadSafeWrites() : factory).Create();
    }

    public static Recorder NewRecorder() =>
        HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(120_000_000).WithPrecisionOf(3)
            .WithThreadSafeWrites().WithThreadSafeReads().Create();

    /// <param name="operation">One request of worker <c>w</c>; null when the worker has nothing more to send.</param>
    /// <param name="onSecond">Called every second with the run's elapsed time and the requests completed so far.</param>
    /// <param name="pace">When set, a steady rate instead of as fast as the workers go.</param>
    /// <param name="retryAfter">When set, where the operation leaves the waits the server asked of a worker.</param>
    /// <param name="leadIn">
    /// How long the workers run before the measured <paramref name="duration"/> starts, without a pause between: what
    /// completes in it is not counted. The steady state at a concurrency, not the load's start: the first second of
    /// nearly every holds load had the highest p99 of its ten (69–110 ms against 36–60), just after the bench had read
    /// the Api's <c>/metrics</c> and while the client opened its connections again (<c>./bench.sh --scenarios hot --lead-in 0</c>).
    /// </param>
    /// <param name="measuring">Awaited when the measured part starts (the caller's snapshots), before anything is counted.</param>
    public static async Task<LoadResult> RunAsync(string name, int workers, TimeSpan duration,
        Func<int, CancellationToken, ValueTask<Outcome?>> operation, Action<TimeSpan, long>? onSecond = null,
        System.Threading.RateLimiting.RateLimiter? pace = null, RetryAfterWaits? retryAfter = null, TimeSpan leadIn = default,
        Func<Task>? measuring = null, CancellationToken cancellationToken = default)
    {
        var recorder = NewRecorder();
        var total = NewHistogram();
        var counts = new long[Enum.GetValues<Outcome>().Length];
        var timeline = new List<TimelinePoint>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var counting = false;
        if (leadIn <= TimeSpan.Zero)
        {
            await (measuring?.Invoke() ?? Task.CompletedTask);
            counting = true;
            stop.CancelAfter(duration);
        }

        var clock = Stopwatch.StartNew();
        var finished = 0;

        async Task WorkerAsync(int worker)
        {
            await Task.Yield();
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    if (pace is not null)
                    {
                        // Waiting for the pace is not the system's latency: the clock starts after it.
                        try
                        {
                            using var lease = await pace.AcquireAsync(1, stop.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }

                    var started = Stopwatch.GetTimestamp();
                    Outcome? outcome;
                    try
                    {
                        outcome = await operation(worker, stop.Token);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (Exception)
                    {
                        outcome = Outcome.Error;
                    }

                    if (outcome is not { } o)
                    {
                        return;
                    }

                    if (Volatile.Read(ref counting))
                    {
                        recorder.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
                        Interlocked.Increment(ref counts[(int)o]);
                    }

                    if (retryAfter?.Take(worker) is { } wait)
                    {
                        // Not the system's latency either: the clock of the next request starts after the wait.
                        try
                        {
                            await Task.Delay(wait, stop.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }
                }
            }
            finally
            {
                if (Interlocked.Increment(ref finished) == workers)
                {
                    await stop.CancelAsync();
                }
            }
        }

        var running = Enumerable.Range(0, workers).Select(WorkerAsync).ToList();
        var sampler = Task.Run(async () =>
        {
            try
            {
                if (!counting)
                {
                    await Task.Delay(leadIn, stop.Token);
                    await (measuring?.Invoke() ?? Task.CompletedTask);
                    clock.Restart();
                    Volatile.Write(ref counting, true);
                    stop.CancelAfter(duration);
                }

                using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    Sample();
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);

        void Sample()
        {
            var interval = recorder.GetIntervalHistogram();
            total.Add(interval);
            timeline.Add(new TimelinePoint(clock.Elapsed.TotalSeconds, interval.TotalCount,
                interval.TotalCount == 0 ? 0 : interval.GetValueAtPercentile(50) / 1000.0,
                interval.TotalCount == 0 ? 0 : interval.GetValueAtPercentile(99) / 1000.0));
            onSecond?.Invoke(clock.Elapsed, total.TotalCount);
        }

        await Task.WhenAll(running);
        await sampler;
        if (!Volatile.Read(ref counting))
        {
            // The workers ran out of things to send within the lead-in: nothing was measured.
            await (measuring?.Invoke() ?? Task.CompletedTask);
            clock.Restart();
        }

        var elapsed = clock.Elapsed;
        Sample();
        return LoadResult.From(name, workers, elapsed, total, counts, timeline);
    }
}

/// <param name="ClientGcPauseMs">The load client's GC pause in this interval, where the scenario measures it.</param>
/// <summary>
/// Per worker, how long the server asked it to wait before its next request (the Retry-After of a 503 or 429). A
/// closed-loop client that asks again at once answers a server shedding load with a storm of requests real clients,
/// who wait as told, do not make: 90.6% of the stress ramp's answers at 2,048 connections were 503s (<c>./bench.sh --scenarios stress</c>).
/// </summary>
public sealed class RetryAfterWaits(int workers)
{
    private readonly TimeSpan?[] _waits = new TimeSpan?[workers];

    /// <summary>Keeps the wait asked with an answer of <paramref name="status"/>, if it is a refusal to come back later.</summary>
    public void Answered(int worker, HttpStatusCode status, TimeSpan? retryAfter)
    {
        if (status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests && retryAfter is { Ticks: > 0 })
        {
            _waits[worker] = retryAfter;
        }
    }

    public TimeSpan? Take(int worker)
    {
        var wait = _waits[worker];
        _waits[worker] = null;
        return wait;
    }
}

public sealed record TimelinePoint(double Seconds, long Requests, double P50Ms, double P99Ms, double ClientGcPauseMs = 0);

public sealed record LoadResult(
    string Name,
    int Connections,
    double Seconds,
    long Requests,
    double PerSecond,
    long Ok,
    long Rejected,
    long Throttled,
    long Unavailable,
    long Errors,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    IReadOnlyList<TimelinePoint> Timeline)
{
    /// <summary>Each part of the system's share of one core over the run (see <see cref="CpuMeter"/>).</summary>
    public IReadOnlyDictionary<string, double>? CpuPercentOfOneCore { get; init; }

    /// <summary>The first Api replica's garbage collections over the run (see <see cref="GcMeter"/>).</summary>
    public GcFigures? ApiGc { get; init; }

    /// <summary>The C# load client's own garbage collections over the run (none for wrk's runs).</summary>
    public GcFigures? ClientGc { get; init; }

    /// <summary>Which of the scenario's rounds of the same loads this was (the hot path repeats its loads at the probe concurrency).</summary>
    public int Round { get; init; } = 1;

    /// <summary>The name, and the round when it is not the first.</summary>
    public string Label => Round > 1 ? $"{Name} · round {Round}" : Name;

    /// <summary>Errors as the stress test counts them: anything but an answer or a correct refusal.</summary>
    public double ErrorRate => Requests == 0 ? 0 : (double)(Throttled + Unavailable + Errors) / Requests;

    public double OkPerSecond => Seconds <= 0 ? 0 : Ok / Seconds;

    public static LoadResult From(string name, int connections, TimeSpan elapsed, HistogramBase histogram, long[] counts, IReadOnlyList<TimelinePoint> timeline)
    {
        double Percentile(double p) => histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(p) / 1000.0;
        return new LoadResult(name, connections, elapsed.TotalSeconds, histogram.TotalCount, histogram.TotalCount / Math.Max(elapsed.TotalSeconds, 0.001),
            counts[(int)Outcome.Ok], counts[(int)Outcome.Rejected], counts[(int)Outcome.Throttled], counts[(int)Outcome.Unavailable], counts[(int)Outcome.Error],
            Percentile(50), Percentile(90), Percentile(99), Percentile(99.9), histogram.TotalCount == 0 ? 0 : histogram.GetMaxValue() / 1000.0, timeline);
    }
}
