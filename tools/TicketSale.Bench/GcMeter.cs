using System.Globalization;
using System.Text.RegularExpressions;

namespace TicketSale.Bench;

/// <summary>
/// The garbage collections of one service during a load run, read from the runtime metrics its <c>/metrics</c>
/// endpoint exports. A collection stops every request the process has in flight, so how many there were and how long
/// they paused it are part of the latency the run measured (before the AppHost raised its gen0 budget, the Api
/// collected every 14 MB on this VM, 5% of the time paused at 256 connections: <c>./bench.sh --scenarios hot</c>).
/// </summary>
public sealed class GcMeter(HttpClient http, Uri service)
{
    /// <summary>The totals so far, or null when the service does not answer (a load run is not failed for its figure).</summary>
    public async Task<GcTotals?> SnapshotAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return GcTotals.Parse(await http.GetStringAsync(new Uri(service, "/metrics"), timeout.Token));
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }
}

/// <summary>Cumulative collections (by the generation collected), pause and allocation since the process started.</summary>
public sealed partial record GcTotals(long Gen0, long Gen1, long Gen2, double PauseSeconds, double AllocatedBytes)
{
    /// <summary>The load client's own (a pause of its stops every request it has in flight, the clock still running).</summary>
    public static GcTotals OfThisProcess() => new(
        GC.CollectionCount(0) - GC.CollectionCount(1), GC.CollectionCount(1) - GC.CollectionCount(2), GC.CollectionCount(2),
        GC.GetTotalPauseDuration().TotalSeconds, GC.GetTotalAllocatedBytes());

    /// <summary>Reads the OpenTelemetry runtime metrics in Prometheus's text format; null when they are not there.</summary>
    public static GcTotals? Parse(string metrics)
    {
        var collections = new Dictionary<string, long>();
        double? pause = null, allocated = null;
        foreach (Match m in Sample().Matches(metrics))
        {
            var value = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            switch (m.Groups["name"].Value)
            {
                case "dotnet_gc_collections_total" when Generation().Match(m.Groups["labels"].Value) is { Success: true } g:
                    collections[g.Groups[1].Value] = (long)value;
                    break;
                case "dotnet_gc_pause_time_seconds_total":
                    pause = value;
                    break;
                case "dotnet_gc_heap_total_allocated_bytes_total":
                    allocated = value;
                    break;
            }
        }

        return pause is null || allocated is null || collections.Count == 0
            ? null
            : new GcTotals(collections.GetValueOrDefault("gen0"), collections.GetValueOrDefault("gen1"), collections.GetValueOrDefault("gen2"), pause.Value, allocated.Value);
    }

    /// <summary>What happened between <paramref name="before"/> and these totals, over <paramref name="elapsed"/>.</summary>
    public GcFigures Since(GcTotals before, TimeSpan elapsed)
    {
        var pauseMs = (PauseSeconds - before.PauseSeconds) * 1000;
        return new GcFigures(
            (int)(Gen0 + Gen1 + Gen2 - before.Gen0 - before.Gen1 - before.Gen2),
            (int)(Gen1 - before.Gen1),
            (int)(Gen2 - before.Gen2),
            Math.Round(pauseMs, 1),
            Math.Round(pauseMs / Math.Max(elapsed.TotalSeconds, 0.001) / 10, 2),
            Math.Round((AllocatedBytes - before.AllocatedBytes) / 1048576.0));
    }

    [GeneratedRegex(@"^(?<name>dotnet_gc_\w+)(?<labels>\{[^}]*\})? (?<value>[0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex("gc_heap_generation=\"(gen[0-2])\"")]
    private static partial Regex Generation();
}

/// <param name="Collections">Every collection, whichever generation.</param>
/// <param name="Gen1">Of them, those that collected gen1 (and gen0).</param>
/// <param name="Gen2">Of them, the full collections.</param>
/// <param name="PausePercent">The share of the run's wall-clock time the process was stopped for them.</param>
public sealed record GcFigures(int Collections, int Gen1, int Gen2, double PauseMs, double PausePercent, double AllocatedMb);
