using System.Globalization;
using System.Text;
using Microsoft.Extensions.Hosting;

namespace TicketSale.AppHost.Supervision;

/// <summary>
/// Prints the resources — state, process id, restarts, address — once every one is healthy, and again after a crash's
/// restart, so that <c>./run.sh</c>'s console says when the system is ready and where (the dashboard shows more).
/// </summary>
internal sealed class ResourceTable(
    DistributedApplicationModel model,
    ResourceNotificationService notifications,
    RestartOnFailure restarts) : BackgroundService
{
    private static readonly string[] s_header = ["RESOURCE", "STATE", "PID", "RESTARTS", "ENDPOINT"];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ResourceEvent> _latest = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = WatchAsync(stoppingToken);
        try
        {
            await StartupResources.WaitUntilReadyAsync(model, notifications, stoppingToken).ConfigureAwait(false);
            Console.WriteLine(Render("All resources healthy. Ctrl+C stops everything."));
            restarts.Restarted += id => _ = PrintRestartedAsync(id, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Printed once this table's own view of the resource shows it running with a process id: the orchestrator's update
    /// that carries the new pid can come after the one that says it runs, and the row would show no pid.
    /// </summary>
    private async Task PrintRestartedAsync(string id, CancellationToken stoppingToken)
    {
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline
                && !(_latest.TryGetValue(id, out var current) && current.Snapshot.State?.Text == KnownResourceStates.Running && Snapshots.ProcessId(current.Snapshot) is not null))
            {
                await Task.Delay(100, stoppingToken).ConfigureAwait(false);
            }

            Console.WriteLine(Render($"{id} crashed and was restarted (restart {restarts.RestartCount(id)}); all resources:"));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                _latest[update.ResourceId] = update;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private string Render(string title)
    {
        var rows = new List<string[]> { s_header };
        foreach (var (id, current) in _latest.Where(e => e.Value.Resource is ProjectResource or ExecutableResource && !e.Value.Resource.HasAnnotationOfType<ExplicitStartupAnnotation>()).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var snapshot = current.Snapshot;
            // "-" for what is not known (yet): every row keeps its five columns for whoever reads the table.
            var pid = Snapshots.ProcessId(snapshot)?.ToString(CultureInfo.InvariantCulture) ?? "-";
            var url = snapshot.Urls.FirstOrDefault(u => !u.IsInternal)?.Url ?? "-";
            rows.Add([id, snapshot.State?.Text ?? "-", pid, restarts.RestartCount(id).ToString(CultureInfo.InvariantCulture), url]);
        }

        var widths = Enumerable.Range(0, 5).Select(c => rows.Max(r => r[c].Length) + 2).ToArray();
        var text = new StringBuilder().AppendLine(title);
        foreach (var row in rows)
        {
            text.AppendLine("  " + string.Concat(row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        }

        return text.ToString();
    }
}
