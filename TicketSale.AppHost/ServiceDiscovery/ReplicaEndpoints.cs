using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TicketSale.AppHost.Supervision;

namespace TicketSale.AppHost.ServiceDiscovery;

/// <summary>
/// Lists each replica of a project by its own address for the services that reference it, in place of the one
/// address of the proxy Aspire puts in front of replicas. That proxy balances TCP connections, not requests: the
/// gateway's few long-lived connections all landed on one Api replica, and the gateway's own balancing and active
/// health checks had one destination to work with. A replica keeps its port across restarts, so the list stays true.
/// </summary>
internal sealed class ReplicaEndpoints(ResourceNotificationService notifications)
{
    private readonly ConcurrentDictionary<string, ResourceEvent> _replicas = new();

    /// <summary>Registers the list, kept from before the first resource starts.</summary>
    public static void AddReplicaEndpoints(IDistributedApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ReplicaEndpoints>();
        builder.Eventing.Subscribe<BeforeStartEvent>((@event, cancellationToken) =>
        {
            var endpoints = @event.Services.GetRequiredService<ReplicaEndpoints>();
            _ = endpoints.WatchAsync(@event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            return Task.CompletedTask;
        });
    }

    /// <summary>Gives <paramref name="client"/> <c>services__{name}__http__{i}</c> for each replica of <paramref name="service"/>.</summary>
    public static IResourceBuilder<ProjectResource> WithReplicaEndpoints(IResourceBuilder<ProjectResource> client, IResourceBuilder<ProjectResource> service)
    {
        if (!client.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            return client;
        }

        return client.WithEnvironment(context =>
        {
            var registry = context.ExecutionContext.Services.GetRequiredService<ReplicaEndpoints>();
            var endpoints = registry.For(service.Resource.Name);
            for (var i = 0; i < endpoints.Count; i++)
            {
                context.EnvironmentVariables[$"services__{service.Resource.Name}__http__{i}"] = endpoints[i];
            }
        });
    }

    /// <summary>The HTTP address each running replica of a project listens on.</summary>
    public IReadOnlyList<string> For(string resource) =>
        _replicas.Values.Where(e => e.Resource.Name == resource)
            .OrderBy(e => e.ResourceId, StringComparer.Ordinal)
            .Select(e => Snapshots.ListenAddress(e.Snapshot))
            .OfType<string>()
            .ToList();

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                if (update.Resource is ProjectResource)
                {
                    _replicas[update.ResourceId] = update;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
