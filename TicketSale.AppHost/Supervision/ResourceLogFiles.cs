using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace TicketSale.AppHost.Supervision;

/// <summary>
/// Writes each process's console output to <c>logs/&lt;resource&gt;.log</c> in the state folder (a replica's to
/// <c>&lt;resource&gt;-&lt;n&gt;.log</c>), appending across runs: the dashboard shows the same lines while the AppHost
/// runs, the files keep them for after it has stopped.
/// </summary>
internal sealed class ResourceLogFiles(ResourceNotificationService notifications, ResourceLoggerService logs, string folder)
{
    private readonly ConcurrentDictionary<string, Task> _writers = new();

    public static void AddResourceLogFiles(IDistributedApplicationBuilder builder, string folder)
    {
        builder.Eventing.Subscribe<BeforeStartEvent>((@event, cancellationToken) =>
        {
            var files = new ResourceLogFiles(@event.Services.GetRequiredService<ResourceNotificationService>(),
                @event.Services.GetRequiredService<ResourceLoggerService>(), folder);
            _ = files.WatchAsync(@event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            return Task.CompletedTask;
        });
    }

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(folder);
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                if (update.Resource is ProjectResource or ExecutableResource && !_writers.ContainsKey(update.ResourceId))
                {
                    var replicas = update.Resource is ProjectResource project && project.TryGetLastAnnotation<ReplicaAnnotation>(out var replica) && replica.Replicas > 1;
                    var name = replicas ? $"{update.Resource.Name}-{_writers.Keys.Count(k => k.StartsWith(update.Resource.Name + "-", StringComparison.Ordinal))}" : update.Resource.Name;
                    _writers[update.ResourceId] = WriteAsync(update.ResourceId, Path.Combine(folder, name + ".log"), stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WriteAsync(string resourceId, string path, CancellationToken stoppingToken)
    {
        try
        {
            await using var file = new StreamWriter(path, append: true) { AutoFlush = true };
            await file.WriteLineAsync($"--- {resourceId} {DateTime.UtcNow:O}").ConfigureAwait(false);
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                foreach (var line in batch)
                {
                    await file.WriteLineAsync(line.Content).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
