using System.Collections.Concurrent;
using Spectre.Console;
using TicketSale.Bench.Load;

namespace TicketSale.Bench;

/// <summary>What the command line asked for.</summary>
public sealed record BenchOptions(
    IReadOnlySet<string> Scenarios,
    int Buyers,
    TimeSpan Burst,
    int ReservedSeats,
    int GeneralAdmission,
    IReadOnlyList<int> Connections,
    TimeSpan HotPathDuration,
    TimeSpan StressStep,
    TimeSpan SoakDuration,
    int ConfirmationPurchases,
    string OutputDirectory,
    bool OpenBeforeBurst = false,
    int HotPathRounds = 1,
    TimeSpan HotPathLeadIn = default)
{
    /// <summary>The concurrency the targets are judged at: 256 connections, or the most the run measured.</summary>
    public int ProbeConnections => Connections.Contains(256) ? 256 : Connections.Max();
}

/// <summary>One run of the bench: the target, the results so far, and what the invariant check must account for.</summary>
public sealed class BenchRun(BenchTarget target, BenchOptions options, ProgressContext progress)
{
    public BenchTarget Target { get; } = target;

    public BenchOptions Options { get; } = options;

    public List<LoadResult> Loads { get; } = [];

    public Dictionary<string, object> Figures { get; } = [];

    public List<string> Notes { get; } = [];

    /// <summary>Every purchase the system accepted (202) during the run: each must end confirmed or failed.</summary>
    public ConcurrentBag<Guid> AcceptedPurchases { get; } = [];

    public List<BenchCampaign> Campaigns { get; } = [];

    public List<Guid> BaselineCampaigns { get; } = [];

    public MemorySampler Memory { get; } = new(target);

    public CpuMeter Cpu { get; } = new(() => target.ProcessIds(everything: true));

    public ProgressTask Phase(string description, double maxValue) => progress.AddTask(Markup.Escape(description), maxValue: maxValue);

    /// <summary>
    /// Waits until every purchase accepted so far is decided. A load measured while the Worker still confirms the
    /// previous load's backlog shares the machine with it, by an amount that depends on the order of the runs: the
    /// baseline measured right after our purchases ran at 103–790 purchases/s across runs of unchanged code.
    /// </summary>
    /// <returns>How long the Worker took to decide the purchases that were still open.</returns>
    public async Task<TimeSpan> SettleAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Invariants.WaitForOutcomesAsync(this, TimeSpan.FromMinutes(5), "settle: the Worker decides");
        var decided = clock.Elapsed;
        await CompactRedisLogAsync();
        return decided;
    }

    /// <summary>
    /// Redis rewrites its append-only log once it has grown by a gigabyte (about a million holds): a forked child
    /// dumps the whole dataset, taking a core for about 4 s. The earlier loads' writes decided which measured load
    /// it fell in (in two full runs, wrk's holds at 256 connections, with Redis at 84% of a core instead of 52–59%).
    /// Like the Worker's backlog, it is settled before the next measurement: once the log has grown by 256 MB, it is
    /// rewritten here, so no 10-second load can reach the threshold. Its cost is reported apart.
    /// </summary>
    private async Task CompactRedisLogAsync()
    {
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Target.Redis + ",allowAdmin=true");
        var server = redis.GetServers()[0];
        var persistence = await PersistenceAsync();
        if (!persistence.TryGetValue("aof_enabled", out var enabled) || enabled != "1" || Size("aof_current_size") - Size("aof_base_size") < 256L << 20)
        {
            return;
        }

        var logged = Size("aof_current_size");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cpu = Cpu.Snapshot();
        if (persistence["aof_rewrite_in_progress"] == "0")
        {
            await server.ExecuteAsync("BGREWRITEAOF");
        }

        do
        {
            await Task.Delay(250);
            persistence = await PersistenceAsync();
        }
        while (persistence["aof_rewrite_in_progress"] != "0" || persistence["aof_rewrite_scheduled"] != "0");

        var redisSeconds = Math.Round(Cpu.Snapshot().GetValueOrDefault("redis") - cpu.GetValueOrDefault("redis"), 1);
        RedisLogRewrites.Add(new Reporting.RedisLogRewriteFigures(logged >> 20, Size("aof_base_size") >> 20, Math.Round(clock.Elapsed.TotalSeconds, 1), redisSeconds));
        Figures["redisLogRewrites"] = RedisLogRewrites;

        long Size(string field) => long.Parse(persistence[field], System.Globalization.CultureInfo.InvariantCulture);

        async Task<Dictionary<string, string>> PersistenceAsync() =>
            (await server.InfoAsync("persistence")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
    }

    private List<Reporting.RedisLogRewriteFigures> RedisLogRewrites { get; } = [];

    /// <summary>
    /// Runs a load with a progress bar that fills over its duration. CPU and the client's collections are counted over
    /// the measured part only, after the <paramref name="leadIn"/> (see <see cref="LoadRunner.RunAsync"/>); the first
    /// Api's collections from before the lead-in, so that its <c>/metrics</c> is not read under the load.
    /// </summary>
    public async Task<LoadResult> LoadAsync(string name, int workers, TimeSpan duration, Func<int, CancellationToken, ValueTask<Outcome?>> operation,
        System.Threading.RateLimiting.RateLimiter? pace = null, int round = 1, RetryAfterWaits? retryAfter = null, TimeSpan leadIn = default)
    {
        var bar = Phase($"{name} ({workers} conns)", duration.TotalSeconds);
        var gc = await ApiGc.SnapshotAsync();
        var gcClock = System.Diagnostics.Stopwatch.StartNew();
        // Set when the measured part starts: LoadRunner calls Measuring once in every case, before it counts anything.
        IReadOnlyDictionary<string, double> cpu = null!;
        GcTotals clientGc = null!;
        var clock = new System.Diagnostics.Stopwatch();
        Task Measuring()
        {
            cpu = Cpu.Snapshot();
            clientGc = GcTotals.OfThisProcess();
            clock.Restart();
            return Task.CompletedTask;
        }

        var result = await LoadRunner.RunAsync(name, workers, duration, operation, (elapsed, _) => bar.Value = elapsed.TotalSeconds, pace, retryAfter,
            leadIn, Measuring);
        result = result with { Round = round, ClientGc = GcTotals.OfThisProcess().Since(clientGc, clock.Elapsed) };
        bar.Value = bar.MaxValue;
        return await AddAsync(result, cpu, clock.Elapsed, gc, gcClock.Elapsed);
    }

    public async Task<LoadResult> WrkAsync(string name, Uri server, IReadOnlyList<WrkRequest> requests, int connections, TimeSpan duration, int round = 1)
    {
        var bar = Phase($"{name} ({connections} conns)", duration.TotalSeconds);
        using var ticker = new Timer(_ => bar.Increment(1), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        var gc = await ApiGc.SnapshotAsync();
        var cpu = Cpu.Snapshot();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await Wrk.RunAsync(name, server, requests, connections, duration, Path.GetTempPath());
        bar.Value = bar.MaxValue;
        return await AddAsync(result with { Round = round }, cpu, clock.Elapsed, gc, clock.Elapsed);
    }

    /// <summary>Keeps a load run's result, with where the CPU went since <paramref name="cpuBefore"/> was taken.</summary>
    public LoadResult Add(LoadResult result, IReadOnlyDictionary<string, double> cpuBefore, TimeSpan elapsed)
    {
        result = result with { CpuPercentOfOneCore = CpuMeter.PercentOfOneCore(cpuBefore, Cpu.Snapshot(), elapsed) };
        Loads.Add(result);
        return result;
    }

    /// <summary>The same, with the first Api's garbage collections since <paramref name="gcBefore"/>, <paramref name="gcElapsed"/> ago.</summary>
    private async Task<LoadResult> AddAsync(LoadResult result, IReadOnlyDictionary<string, double> cpuBefore, TimeSpan elapsed, GcTotals? gcBefore, TimeSpan gcElapsed)
    {
        result = Add(result, cpuBefore, elapsed);
        if (gcBefore is not null && await ApiGc.SnapshotAsync() is { } gcAfter)
        {
            Loads[^1] = result = result with { ApiGc = gcAfter.Since(gcBefore, gcElapsed) };
        }

        return result;
    }

    /// <summary>The Api replica the hot path loads (the others take their share only through the gateway).</summary>
    private GcMeter ApiGc { get; } = new(target.OperatorHttp, target.Apis[0]);
}

/// <summary>Samples the resident memory of each service process from /proc, for the peak and the soak's drift.</summary>
public sealed class MemorySampler(BenchTarget target) : IDisposable
{
    private readonly Dictionary<string, long> _peaks = [];
    private readonly List<(double Seconds, string Process, long Bytes)> _samples = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private Timer? _timer;

    public IReadOnlyDictionary<string, long> Peaks
    {
        get
        {
            lock (_peaks)
            {
                return new Dictionary<string, long>(_peaks);
            }
        }
    }

    public IReadOnlyList<(double Seconds, string Process, long Bytes)> Samples
    {
        get
        {
            lock (_peaks)
            {
                return [.. _samples];
            }
        }
    }

    public void Start() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(500));

    public void Sample()
    {
        foreach (var (name, pid) in target.ProcessIds())
        {
            if (ResidentBytes(pid) is not { } bytes)
            {
                continue;
            }

            lock (_peaks)
            {
                _peaks[name] = Math.Max(_peaks.GetValueOrDefault(name), bytes);
                _samples.Add((_clock.Elapsed.TotalSeconds, name, bytes));
            }
        }
    }

    public static long? ResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose() => _timer?.Dispose();
}
