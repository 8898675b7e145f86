using System.Globalization;
using System.Text;
using System.Text.Json;
using TicketSale.Bench.Load;

namespace TicketSale.Bench.Reporting;

/// <summary>A target of the issue, judged on the run's figures.</summary>
public sealed record TargetCheck(string Target, string Measured, bool? Met);

/// <summary>The run's report: JSON for machines, Markdown for people, and a latency chart.</summary>
public static class Report
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static IReadOnlyList<TargetCheck> Targets(BenchRun run, IReadOnlyList<string> violations)
    {
        var checks = new List<TargetCheck>();
        var probe = run.Options.ProbeConnections;
        foreach (var client in new[] { "C#", "wrk" })
        {
            if (Paired(run.Loads, $"holds · {client}", $"empty endpoint · {client}", probe) is { } holds)
            {
                var median = holds.Median;
                checks.Add(new($"hold endpoint ≥ 25% of the empty endpoint at {probe} connections ({client} client)",
                    $"{median.A.OkPerSecond:N0}/s vs {median.B.OkPerSecond:N0}/s = {median.Ratio:P1}{Spread(holds.Rounds.Select(r => r.Ratio.ToString("P1", CultureInfo.InvariantCulture)))}",
                    median.Ratio >= 0.25));
                var p99 = Median(holds.Rounds.Select(r => r.A.P99Ms).ToList(), upper: true);
                // wrk measures from its first request; the C# loads after their lead-in, when there is one.
                var leadIn = client == "C#" && run.Options.HotPathLeadIn > TimeSpan.Zero ? $", after a {run.Options.HotPathLeadIn.TotalSeconds:0.#}-s lead-in" : "";
                checks.Add(new($"hold endpoint p99 ≤ 50 ms at {probe} connections ({client} client)",
                    $"{p99:N1} ms{Spread(holds.Rounds.Select(r => r.A.P99Ms.ToString("N1", CultureInfo.InvariantCulture)))}{leadIn}", p99 <= 50));
            }
        }

        if (run.Figures.GetValueOrDefault("confirmations") is ConfirmationFigures confirmations)
        {
            var rate = confirmations.SustainedTicketsPerSecond;
            checks.Add(new("confirmations ≥ 5,000 tickets/s into PostgreSQL", $"{rate:N0} tickets/s ({confirmations.SustainedPurchasesPerSecond} purchases/s of {confirmations.TicketsPerPurchase} tickets)", rate >= 5000));
        }

        if (run.Figures.GetValueOrDefault("flashSale") is FlashSaleFigures sale)
        {
            checks.Add(new("flash sale sells out", sale.SoldOut ? $"in {sale.SecondsToSellOut} s" : $"no: {sale.SeatsSold} seats and {sale.GeneralAdmissionSold} GA sold", sale.SoldOut));
            checks.Add(new("flash sale p99 hold latency ≤ 100 ms", $"{sale.HoldP99Ms} ms over {sale.HoldAttempts} holds, {sale.AdmissionsPerSecond} admissions/s", sale.HoldP99Ms <= 100));
        }

        checks.Add(new("zero invariant violations", violations.Count == 0 ? "none" : string.Join("; ", violations), violations.Count == 0));

        if (run.Figures.GetValueOrDefault("chaos") is IReadOnlyList<Scenarios.Chaos.FaultFigures> faults)
        {
            foreach (var f in faults)
            {
                var answers = string.Join(", ", f.AnswersByStatus.Select(a => $"{a.Key}: {a.Value:N0}"));
                checks.Add(new($"chaos · {f.Fault}: purchases accepted again ≤ 10 s after the component is back, every purchase decided, no violation",
                    $"accepted again {(f.SecondsFromHealthyToAccepted is { } back ? $"{back} s" : "never")} after it was back ({f.SecondsUntilComponentHealthy} s after the fault), "
                    + $"all decided {f.SecondsUntilEveryPurchaseDecided} s after the fault, {f.Undecided} undecided, {f.Violations.Count} violations; answers {answers}",
                    f.SecondsFromHealthyToAccepted <= 10 && f.Undecided == 0 && f.Violations.Count == 0));
            }
        }

        if (Paired(run.Loads, "purchases · C#", "purchases · SELECT … FOR UPDATE · C#", probe) is { } purchases)
        {
            var median = purchases.Median;
            checks.Add(new($"≥ 10× the SELECT … FOR UPDATE design's purchases/s at {probe} connections",
                $"{median.A.OkPerSecond:N0}/s vs {median.B.OkPerSecond:N0}/s = {median.Ratio:N1}×{Spread(purchases.Rounds.Select(r => r.Ratio.ToString("N1", CultureInfo.InvariantCulture) + "×"))}",
                median.Ratio >= 10));
        }

        if (run.Figures.GetValueOrDefault("flashSale") is FlashSaleFigures { SecondsToSellOut: { } ourTime }
            && run.Figures.GetValueOrDefault("flashSaleForUpdate") is ForUpdateSaleFigures theirSale)
        {
            var theirTime = theirSale.SecondsToSellOut;
            checks.Add(new("flash sale: time to sell out vs the SELECT … FOR UPDATE design (informational)",
                $"{ourTime} s vs {(theirTime is null ? $"not sold out after {theirSale.SecondsUntilEveryBuyerDone} s ({theirSale.TicketsSold} tickets)" : $"{theirTime} s")}", null));
        }

        var apiPeaks = run.Memory.Peaks.Where(p => p.Key.StartsWith("api-", StringComparison.Ordinal)).ToList();
        if (apiPeaks.Count > 0)
        {
            var worst = apiPeaks.Max(p => p.Value);
            checks.Add(new("each Api process ≤ 400 MB resident at peak", string.Join(", ", apiPeaks.Select(p => $"{p.Key} {p.Value / 1048576.0:N0} MB")), worst <= 400L * 1024 * 1024));
        }

        return checks;
    }

    /// <summary>
    /// Two loads measured side by side, round by round, at one concurrency (<paramref name="name"/>'s rate over
    /// <paramref name="against"/>'s), and the median round: the lower middle one, so that an even number of rounds
    /// does not round a target up. Null when the run did not measure both.
    /// </summary>
    public static (IReadOnlyList<(LoadResult A, LoadResult B, double Ratio)> Rounds, (LoadResult A, LoadResult B, double Ratio) Median)? Paired(
        IReadOnlyList<LoadResult> loads, string name, string against, int connections)
    {
        var rounds = loads.Where(l => l.Name == name && l.Connections == connections)
            .Join(loads.Where(l => l.Name == against && l.Connections == connections), a => a.Round, b => b.Round,
                (a, b) => (A: a, B: b, Ratio: a.OkPerSecond / Math.Max(b.OkPerSecond, 0.001)))
            .OrderBy(r => r.A.Round).ToList();
        return rounds.Count == 0 ? null : (rounds, Median(rounds, r => r.Ratio, upper: false));
    }

    /// <summary>The middle value; with an even count the upper or lower of the two middle ones.</summary>
    public static double Median(IReadOnlyList<double> values, bool upper) => Median(values, v => v, upper);

    /// <summary>The item whose key is the middle one; with an even count the upper or lower of the two middle ones.</summary>
    private static T Median<T>(IReadOnlyList<T> items, Func<T, double> key, bool upper)
    {
        var sorted = items.OrderBy(key).ToList();
        return sorted[upper ? sorted.Count / 2 : (sorted.Count - 1) / 2];
    }

    private static string Spread(IEnumerable<string> rounds)
    {
        var list = rounds.ToList();
        return list.Count > 1 ? $" (median of {list.Count} rounds: {string.Join(", ", list)})" : "";
    }

    public static async Task<(string Path, IReadOnlyList<TargetCheck> Targets)> WriteAsync(BenchRun run, IReadOnlyList<string> violations, string command, TimeSpan elapsed)
    {
        Directory.CreateDirectory(run.Options.OutputDirectory);
        var targets = Targets(run, violations);
        var machine = new
        {
            cores = Environment.ProcessorCount,
            memoryGiB = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1073741824.0, 1),
            os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            dotnet = Environment.Version.ToString(),
            cpu = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() : null,
        };
        var json = new
        {
            finishedAt = DateTimeOffset.UtcNow,
            command,
            minutes = Math.Round(elapsed.TotalMinutes, 1),
            target = run.Target.Description,
            machine,
            targets,
            loads = run.Loads,
            figures = run.Figures,
            memoryPeaksMb = run.Memory.Peaks.ToDictionary(p => p.Key, p => Math.Round(p.Value / 1048576.0, 1)),
            notes = run.Notes,
        };
        await File.WriteAllTextAsync(Path.Combine(run.Options.OutputDirectory, "report.json"), JsonSerializer.Serialize(json, s_json));
        var chart = LatencyChart.Write(run, Path.Combine(run.Options.OutputDirectory, "latency.png"));

        var md = new StringBuilder();
        md.AppendLine("# TicketSale benchmark report").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Finished {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC after {elapsed.TotalMinutes:N1} minutes; {run.Target.Description}.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine.cores} cores ({machine.cpu}), {machine.memoryGiB} GiB, {machine.os}, .NET {machine.dotnet}; the load client runs on the same machine.").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Reproduce: `{command}`").AppendLine();
        md.AppendLine("## Targets").AppendLine();
        md.AppendLine("| target | measured | met |").AppendLine("|---|---|---|");
        foreach (var t in targets)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {t.Target} | {t.Measured} | {(t.Met is null ? "—" : t.Met.Value ? "yes" : "**no**")} |");
        }

        md.AppendLine().AppendLine("## Load runs").AppendLine();
        md.AppendLine("| run | conns | seconds | requests | per second | ok/s | refused (409) | 429 | 503 | errors | p50 ms | p90 ms | p99 ms | max ms |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var l in run.Loads)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {l.Label} | {l.Connections} | {l.Seconds:N1} | {l.Requests:N0} | {l.PerSecond:N0} | {l.OkPerSecond:N0} | {l.Rejected:N0} | {l.Throttled:N0} | {l.Unavailable:N0} | {l.Errors:N0} | {l.P50Ms:N2} | {l.P90Ms:N2} | {l.P99Ms:N2} | {(l.MaxMs > 0 ? l.MaxMs.ToString("N1", CultureInfo.InvariantCulture) : "—")} |");
        }

        if (run.Loads.Any(l => l.CpuPercentOfOneCore is not null))
        {
            // Every part of the system and the load client share the machine's cores: a run's figures depend on who else was busy.
            var parts = run.Loads.Where(l => l.CpuPercentOfOneCore is not null).SelectMany(l => l.CpuPercentOfOneCore!.Keys).Distinct().ToList();
            md.AppendLine().AppendLine("## CPU per load run").AppendLine()
                .AppendLine("Percent of one core over each run, each part with the processes it started (200 is the whole of a two-core machine).").AppendLine()
                .AppendLine("| run | conns | " + string.Join(" | ", parts) + " | total |")
                .AppendLine("|---|---:|" + string.Concat(parts.Select(_ => "---:|")) + "---:|");
            foreach (var l in run.Loads.Where(l => l.CpuPercentOfOneCore is not null))
            {
                var cpu = l.CpuPercentOfOneCore!;
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {l.Label} | {l.Connections} | {string.Join(" | ", parts.Select(p => cpu.GetValueOrDefault(p).ToString("N0", CultureInfo.InvariantCulture)))} | {cpu.Values.Sum():N0} |");
            }
        }

        if (run.Loads.Any(l => l.ApiGc is not null))
        {
            md.AppendLine().AppendLine("## Garbage collections per load run").AppendLine()
                .AppendLine("api-0's from its runtime metrics before and after each run, the C# load client's from its own runtime: every collection stops the requests the process has in flight.").AppendLine()
                .AppendLine("| run | conns | api-0 collections | of them gen1 | gen2 | api-0 paused ms | % of the time | api-0 allocated MB | load client collections | load client paused ms |")
                .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var l in run.Loads.Where(l => l.ApiGc is not null))
            {
                var gc = l.ApiGc!;
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {l.Label} | {l.Connections} | {gc.Collections:N0} | {gc.Gen1:N0} | {gc.Gen2:N0} | {gc.PauseMs:N0} | {gc.PausePercent:N1} | {gc.AllocatedMb:N0} | {(l.ClientGc is { } c ? c.Collections.ToString("N0", CultureInfo.InvariantCulture) : "—")} | {(l.ClientGc is { } p ? p.PauseMs.ToString("N0", CultureInfo.InvariantCulture) : "—")} |");
            }
        }

        md.AppendLine().AppendLine("## Scenario figures").AppendLine();
        foreach (var (name, value) in run.Figures)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"### {name}").AppendLine().AppendLine("```json").AppendLine(JsonSerializer.Serialize(value, s_json)).AppendLine("```").AppendLine();
        }

        md.AppendLine("## Resident memory at peak").AppendLine();
        foreach (var (process, bytes) in run.Memory.Peaks)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {process}: {bytes / 1048576.0:N0} MB");
        }

        if (run.Notes.Count > 0)
        {
            md.AppendLine().AppendLine("## Notes").AppendLine();
            run.Notes.ForEach(n => md.AppendLine("- " + n));
        }

        if (chart is not null)
        {
            md.AppendLine().AppendLine("## Latency").AppendLine().AppendLine("![p99 latency per second](latency.png)");
        }

        var path = Path.Combine(run.Options.OutputDirectory, "report.md");
        await File.WriteAllTextAsync(path, md.ToString());
        return (path, targets);
    }
}

/// <summary>The p99 of each second of the runs with a timeline, one line each.</summary>
public static class LatencyChart
{
    public static string? Write(BenchRun run, string path)
    {
        // The first round of each load only: the others draw the same curve again.
        var series = run.Loads.Where(l => l.Round == 1 && l.Timeline.Count > 1 && (l.Name.StartsWith("holds", StringComparison.Ordinal) || l.Name.StartsWith("flash sale", StringComparison.Ordinal) || l.Name.StartsWith("soak", StringComparison.Ordinal))).ToList();
        if (series.Count == 0)
        {
            return null;
        }

        var plot = new ScottPlot.Plot();
        foreach (var load in series)
        {
            var points = load.Timeline.Where(p => p.Requests > 0).ToList();
            var line = plot.Add.Scatter(points.Select(p => p.Seconds).ToArray(), points.Select(p => p.P99Ms).ToArray());
            line.LegendText = $"{load.Name}, {load.Connections} conns";
            line.MarkerSize = 0;
        }

        plot.Title("p99 latency of each second");
        plot.XLabel("seconds into the run");
        plot.YLabel("p99 latency (ms)");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 1200, 700);
        return path;
    }
}
