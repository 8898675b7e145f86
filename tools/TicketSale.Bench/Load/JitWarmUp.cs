using System.Diagnostics;
using System.Globalization;

namespace TicketSale.Bench.Load;

/// <summary>
/// Warm-up that ends when the servers have compiled their hot code, not after a fixed time. A .NET process compiles
/// its hot methods again, optimized, on a background thread that shares the cores with the load: on a 2-core Xeon,
/// 3 s of holds left the Api's JIT at 15–36% of a core through the first measured hold load (perf), and the
/// baseline server compiled for half its CPU through its measured run. Each server's own JIT time is read from
/// <c>/metrics</c> (the runtime's <c>dotnet.jit.compilation.time</c>), between warm-up rounds.
/// </summary>
public static class JitWarmUp
{
    private const string Metric = "dotnet_jit_compilation_time_seconds_total";

    /// <summary>Below this share of one core spent compiling over a round, the servers count as warm.</summary>
    public const double SettledShareOfCore = 0.02;

    /// <summary>
    /// Runs <paramref name="round"/> until the servers' JIT took less than <see cref="SettledShareOfCore"/> of a core
    /// over a round, at most <paramref name="maxRounds"/> times. Returns the rounds run and the last round's share.
    /// </summary>
    public static async Task<(int Rounds, double LastShareOfCore)> RunAsync(HttpClient http, IReadOnlyList<Uri> servers, Func<Task> round, int maxRounds = 10)
    {
        var compiled = await CompilationSecondsAsync(http, servers);
        var share = double.NaN;
        for (var rounds = 1; rounds <= maxRounds; rounds++)
        {
            var clock = Stopwatch.StartNew();
            await round();
            var now = await CompilationSecondsAsync(http, servers);
            share = ShareOfCore(now - compiled, clock.Elapsed);
            compiled = now;
            if (share < SettledShareOfCore)
            {
                return (rounds, share);
            }
        }

        return (maxRounds, share);
    }

    /// <summary>How a warm-up went, for the report.</summary>
    public static Reporting.WarmUpFigures Figure((int Rounds, double LastShareOfCore) warmUp) => new(warmUp.Rounds, Math.Round(warmUp.LastShareOfCore, 3));

    /// <summary>Seconds of JIT, summed over the servers, per second of the round: the share of one core it took.</summary>
    public static double ShareOfCore(double compilationSeconds, TimeSpan elapsed) =>
        elapsed <= TimeSpan.Zero ? double.PositiveInfinity : compilationSeconds / elapsed.TotalSeconds;

    private static async Task<double> CompilationSecondsAsync(HttpClient http, IReadOnlyList<Uri> servers) =>
        (await ServerLatency.ScrapesAsync(http, servers)).Sum(CompilationSeconds);

    /// <summary>The JIT's total compilation time in a Prometheus scrape; a scrape without it is an error, not a zero.</summary>
    public static double CompilationSeconds(string scrape)
    {
        var line = scrape.Split('\n').FirstOrDefault(l => l.StartsWith(Metric, StringComparison.Ordinal) && l.Length > Metric.Length
            && l[Metric.Length] is ' ' or '{')
            ?? throw new InvalidOperationException($"The server's /metrics has no {Metric}: its JIT cannot be watched.");
        // "<name>{labels} <value> [timestamp]" or "<name> <value> [timestamp]"
        var value = line[(line[Metric.Length] == '{' ? line.LastIndexOf('}') + 1 : Metric.Length)..].Trim().Split(' ')[0];
        return double.Parse(value, CultureInfo.InvariantCulture);
    }
}
