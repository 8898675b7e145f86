using System.Text.Json;
using Microsoft.Extensions.Hosting;
using TicketSale.AppHost.Supervision;

namespace TicketSale.AppHost.Monitoring;

/// <summary>
/// Keeps Prometheus's file of targets (file-based service discovery) true to the running model: each replica of each
/// project by its own address, labelled with its service. A replica that stopped cleanly (a release switched away from,
/// a migration done) leaves the list; one that died stays, so that its silence is reported (<c>ServiceDown</c>).
/// </summary>
internal sealed class ScrapeTargets(string file, ResourceNotificationService notifications) : BackgroundService
{
    public const string FileName = "targets.json";

    private readonly Dictionary<string, Target> _targets = [];

    private sealed record Target(string Service, string Address);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                if (update.Resource is ProjectResource && Apply(update))
                {
                    await WriteAsync(stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Applies a replica's update to the list; true when the list changed.</summary>
    private bool Apply(ResourceEvent update)
    {
        var state = update.Snapshot.State?.Text;
        if (state == KnownResourceStates.Running && Snapshots.ListenAddress(update.Snapshot) is { } url && Uri.TryCreate(url, UriKind.Absolute, out var address))
        {
            var target = new Target(update.Resource.Name, $"{address.Host}:{address.Port}");
            if (_targets.GetValueOrDefault(update.ResourceId) == target)
            {
                return false;
            }

            _targets[update.ResourceId] = target;
            return true;
        }

        // A clean exit, or SIGTERM's (a stop the orchestrator was asked for), leaves the list; a crash keeps its place.
        var stoppedCleanly = (state == KnownResourceStates.Exited || state == KnownResourceStates.Finished) && update.Snapshot.ExitCode is 0 or 143 or null;
        return stoppedCleanly && _targets.Remove(update.ResourceId);
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        var groups = _targets.Values.OrderBy(t => t.Service, StringComparer.Ordinal).ThenBy(t => t.Address, StringComparer.Ordinal)
            .Select(t => new { targets = new[] { t.Address }, labels = new { service = t.Service } });
        // Written beside and renamed over: Prometheus never reads half a file.
        var temporary = file + ".tmp";
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(groups), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, file, overwrite: true);
    }
}
