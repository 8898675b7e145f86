using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TicketSale.Bench;
using TicketSale.Bench.Baselines;
using TicketSale.Bench.Load;
using TicketSale.Bench.Reporting;
using TicketSale.Bench.Scenarios;

var all = new[] { "flash", "hot", "confirm", "limits", "stress", "soak", "chaos" };
var scenarios = new Option<string>("--scenarios") { Description = $"Comma-separated: {string.Join(',', all)} (default: all of them).", DefaultValueFactory = _ => string.Join(',', all) };
var quick = new Option<bool>("--quick") { Description = "A small run of every scenario (seconds, not minutes): checks the harness, measures nothing." };
var buyers = new Option<int>("--buyers") { DefaultValueFactory = _ => 50_000, Description = "Flash-sale buyers." };
var burst = new Option<double>("--burst-seconds") { DefaultValueFactory = _ => 10, Description = "The flash-sale buyers arrive over this many seconds." };
var openBeforeBurst = new Option<bool>("--open-before-burst")
{
    Description = "The flash sale is already open when its buyers arrive. By default it opens as the burst ends: the buyers wait in the pre-queue for the on-sale time, as a herd does, and their places are drawn at the opening.",
};
var seats = new Option<int>("--seats") { DefaultValueFactory = _ => 20_000, Description = "Reserved seats in the flash sale (rows of 100)." };
var ga = new Option<int>("--general-admission") { DefaultValueFactory = _ => 10_000, Description = "General-admission tickets in the flash sale." };
var admissions = new Option<double>("--admissions-per-second")
{
    // What this 2-core machine serves with the load client on it, the hold p99 within 100 ms: each admitted buyer
    // costs about six requests (seat map, holds, purchase, status). At 400 a second both cores were busy from the
    // opening to the sell-out and the p99 was 118-866 ms; at 200, with the pre-queue coming back at its turn, 46 ms
    // (`./bench.sh --scenarios flash --admissions-per-second 400`, then 200). An operator sets a waiting room's rate to
    // what the site serves; the sale takes longer (74 s instead of 44-54 s).
    DefaultValueFactory = _ => 200,
    Description = "The flash sale's waiting-room admission rate.",
};
var connections = new Option<string>("--connections") { DefaultValueFactory = _ => "64,256,1024", Description = "Hot-path concurrency levels." };
var duration = new Option<double>("--seconds") { DefaultValueFactory = _ => 10, Description = "Length of each hot-path run." };
var leadIn = new Option<double>("--lead-in") { DefaultValueFactory = _ => 3, Description = "Seconds each C# hot-path load runs before its measured seconds start (0: measured from its first request)." };
var rounds = new Option<int>("--rounds") { DefaultValueFactory = _ => 3, Description = "Rounds of the hot path's loads at 256 connections (the targets take the median round)." };
var stressStep = new Option<double>("--stress-step-seconds") { DefaultValueFactory = _ => 8, Description = "Length of each step of the stress ramp." };
var soakMinutes = new Option<double>("--soak-minutes") { DefaultValueFactory = _ => 10 };
var soakRate = new Option<double>("--soak-rate") { DefaultValueFactory = _ => 400, Description = "Purchases per second during the soak." };
var confirmations = new Option<int>("--confirmation-purchases") { DefaultValueFactory = _ => 20_000, Description = "Backlog of 4-ticket purchases for the confirmation run." };
var output = new Option<string>("--out") { DefaultValueFactory = _ => "artifacts/bench", Description = "Where report.md, report.json and latency.png go." };

var root = new RootCommand("TicketSale benchmark: flash sale, hot path, confirmations, machine limits, stress, soak and chaos, then the invariant check.")
{
    scenarios, quick, buyers, burst, openBeforeBurst, seats, ga, admissions, connections, duration, leadIn, rounds, stressStep, soakMinutes, soakRate, confirmations, output,
};
root.SetAction(async (parse, cancellationToken) =>
{
    var isQuick = parse.GetValue(quick);
    var options = new BenchOptions(
        parse.GetValue(scenarios)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase),
        isQuick ? 1_000 : parse.GetValue(buyers),
        TimeSpan.FromSeconds(isQuick ? 2 : parse.GetValue(burst)),
        isQuick ? 1_000 : parse.GetValue(seats),
        isQuick ? 500 : parse.GetValue(ga),
        isQuick ? [16, 64] : [.. parse.GetValue(connections)!.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))],
        TimeSpan.FromSeconds(isQuick ? 2 : parse.GetValue(duration)),
        TimeSpan.FromSeconds(isQuick ? 1 : parse.GetValue(stressStep)),
        TimeSpan.FromMinutes(isQuick ? 0.25 : parse.GetValue(soakMinutes)),
        isQuick ? 500 : parse.GetValue(confirmations),
        parse.GetValue(output)!,
        parse.GetValue(openBeforeBurst),
        isQuick ? 2 : Math.Max(1, parse.GetValue(rounds)),
        TimeSpan.FromSeconds(isQuick ? 1 : Math.Max(0, parse.GetValue(leadIn))));
    var unknown = options.Scenarios.Except(all).ToList();
    if (unknown.Count > 0)
    {
        AnsiConsole.MarkupLine($"[red]Unknown scenarios: {Markup.Escape(string.Join(", ", unknown))}[/]");
        return 2;
    }

    return await RunAsync(options, isQuick ? 100 : parse.GetValue(soakRate), isQuick ? 500 : parse.GetValue(admissions),
        "dotnet run -c Release --project tools/TicketSale.Bench -- " + string.Join(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a)));
});

var port = new Option<int>("--port") { Required = true };
var postgres = new Option<string>("--postgres") { Required = true };
var payments = new Option<string>("--payments") { Required = true };
var serve = new Command("serve", "The baselines' server (the empty endpoint and the SELECT … FOR UPDATE design); the bench starts it itself.") { port, postgres, payments };
serve.SetAction((parse, _) => ForUpdateServer.ServeAsync(parse.GetValue(port), parse.GetValue(postgres)!, new Uri(parse.GetValue(payments)!)));
root.Subcommands.Add(serve);
return await root.Parse(args).InvokeAsync();

static async Task<int> RunAsync(BenchOptions options, double soakRate, double admissionsPerSecond, string command)
{
    var clock = Stopwatch.StartNew();
    // Before anything opens a socket or starts a process: the load client only (see the class).
    await InlineSocketCompletions.EnableForThisProcessAsync();
    AnsiConsole.MarkupLine("Starting the system through Aspire's test host …");
    await using var target = await BenchTarget.StartAsync(CancellationToken.None);
    List<string> violations = [];
    List<string> failed = [];
    BenchRun? run = null;
    await AnsiConsole.Progress()
        .AutoClear(false)
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .StartAsync(async progress =>
        {
            var current = run = new BenchRun(target, options, progress);
            current.Figures["loadClient"] = InlineSocketCompletions.Figure();
            current.Memory.Start();
            await using var server = await BaselineServerProcess.StartAsync(target);
            current.Cpu.Track("baseline server", server.ProcessId);
            // A scenario that fails is reported and the others still run: a 25-minute run is not thrown away for one.
            async Task Scenario(string name, Func<Task> body)
            {
                if (!options.Scenarios.Contains(name))
                {
                    return;
                }

                try
                {
                    await body();
                }
                catch (Exception ex)
                {
                    failed.Add(name);
                    current.Notes.Add($"Scenario {name} failed: {ex.GetType().Name}: {ex.Message}");
                    AnsiConsole.MarkupLine($"[red]Scenario {Markup.Escape(name)} failed:[/] {Markup.Escape(ex.Message)}");
                }
            }

            await Scenario("flash", async () =>
            {
                await FlashSale.RunAsync(current, admissionsPerSecond);
                await current.SettleAsync();
                await FlashSale.RunBaselineAsync(current, server);
            });
            await Scenario("hot", () => HotPath.RunAsync(current, server));
            await Scenario("confirm", () => HotPath.ConfirmationsAsync(current));
            await Scenario("limits", async () =>
            {
                await MachineLimits.RedisHoldScriptAsync(current);
                await MachineLimits.PostgresInsertsAsync(current);
            });
            await Scenario("stress", async () =>
            {
                await current.SettleAsync();
                await StressAndSoak.StressAsync(current);
            });
            await Scenario("soak", async () =>
            {
                await current.SettleAsync();
                await StressAndSoak.SoakAsync(current, soakRate);
            });

            // Last: its faults must not disturb the figures of the others.
            await Scenario("chaos", async () =>
            {
                await current.SettleAsync();
                await Chaos.RunAsync(current);
            });

            violations = await Invariants.CheckAsync(current);
            current.Memory.Dispose();
        });

    var (report, targets) = await Report.WriteAsync(run!, violations, command, clock.Elapsed);
    var table = new Table().AddColumns("target", "measured", "met");
    foreach (var t in targets)
    {
        table.AddRow(Markup.Escape(t.Target), Markup.Escape(t.Measured), t.Met is null ? "—" : t.Met.Value ? "[green]yes[/]" : "[red]no[/]");
    }

    AnsiConsole.Write(table);
    AnsiConsole.MarkupLine($"Report: [link]{Markup.Escape(report)}[/] (and report.json, latency.png beside it)");
    if (violations.Count > 0)
    {
        AnsiConsole.MarkupLine($"[red]Invariants broken:[/] {Markup.Escape(string.Join("; ", violations))}");
        return 1;
    }

    if (failed.Count > 0)
    {
        AnsiConsole.MarkupLine($"[red]Scenarios that failed:[/] {Markup.Escape(string.Join(", ", failed))} (the report has the others)");
        return 3;
    }

    return 0;
}
