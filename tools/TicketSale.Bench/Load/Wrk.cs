using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TicketSale.Bench.Load;

/// <summary>A POST request for wrk: one line of its requests file.</summary>
public sealed record WrkRequest(string Path, string Token, string Body, string? IdempotencyKey);

/// <summary>
/// Runs <c>wrk</c> (a C load generator, so the C# client's own cost can be told apart) with the requests file script,
/// and reads its summary: requests per second, the latency percentiles, non-2xx answers and socket errors.
/// </summary>
public static partial class Wrk
{
    public static bool Available => ExternalTool.Exists("wrk");

    public static async Task<LoadResult> RunAsync(string name, Uri server, IReadOnlyList<WrkRequest> requests, int connections, TimeSpan duration, string workDirectory)
    {
        var threads = Math.Min(Environment.ProcessorCount, connections);
        var linesFile = Path.Combine(workDirectory, $"wrk-{Guid.NewGuid():N}.tsv");
        await File.WriteAllLinesAsync(linesFile, requests.Select(r => $"{r.Path}\t{r.Token}\t{r.Body}\t{r.IdempotencyKey}"));
        try
        {
            // wrk runs without a script it cannot open (plain GETs): a missing script must stop the run instead.
            var script = Path.Combine(AppContext.BaseDirectory, "Load", "requests.lua");
            if (!File.Exists(script))
            {
                throw new FileNotFoundException("The wrk script is missing from the build output.", script);
            }

            var output = await ExternalTool.RunAsync("wrk",
                ["-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
                 "-d", $"{(int)duration.TotalSeconds}s", "--timeout", "30s", "--latency", "-s", script, server.ToString().TrimEnd('/'),
                 "--", linesFile, threads.ToString(CultureInfo.InvariantCulture)], duration + TimeSpan.FromSeconds(60));
            return Parse(name, connections, output);
        }
        finally
        {
            File.Delete(linesFile);
        }
    }

    public static LoadResult Parse(string name, int connections, string output)
    {
        double Number(Regex pattern) => pattern.Match(output) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        double Percentile(string p) => Regex.Match(output, $@"^\s*{p}%\s+([\d.]+)(us|ms|s)\b", RegexOptions.Multiline) is { Success: true } m
            ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * m.Groups[2].Value switch { "us" => 0.001, "ms" => 1, _ => 1000 }
            : 0;
        var summary = RequestsLine().Match(output);
        if (!summary.Success)
        {
            throw new InvalidOperationException("Unreadable wrk output:\n" + output);
        }

        var requests = long.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture);
        var seconds = double.Parse(summary.Groups[2].Value, CultureInfo.InvariantCulture) * (summary.Groups[3].Value == "m" ? 60 : 1);
        var non2xx = (long)Number(Non2xxLine());
        var socketErrors = SocketErrorsLine().Match(output) is { Success: true } s
            ? Enumerable.Range(1, 4).Sum(i => long.Parse(s.Groups[i].Value, CultureInfo.InvariantCulture))
            : 0;
        return new LoadResult(name, connections, seconds, requests, Number(RateLine()), requests - non2xx, 0, 0, 0, non2xx + socketErrors,
            Percentile("50"), Percentile("90"), Percentile("99"), 0, 0, []);
    }

    [GeneratedRegex(@"(\d+) requests in ([\d.]+)(m|s)")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RateLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Non2xxLine();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsLine();
}

/// <summary>The machine's own tools the baselines use: wrk, redis-benchmark, pgbench.</summary>
public static class ExternalTool
{
    public static bool Exists(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));

    public static async Task<string> RunAsync(string tool, IEnumerable<string> arguments, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} did not finish within {timeout}.");
        }

        var output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} exited with {process.ExitCode}: {await stderr}\n{output}");
        }

        return output;
    }
}
