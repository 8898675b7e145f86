using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using RabbitMQ.Client;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Aspire's client integrations for the three backing services, with what this system adds to them: a readiness check
/// named after each resource (the gateway reads the Api's <c>cache</c> and <c>messaging</c> checks by name), clients that
/// ride out a server's restart, and one lazily opened AMQP connection.
/// </summary>
public static class BackingServiceClients
{
    /// <summary>The Redis resource <paramref name="name"/>: one shared <see cref="IConnectionMultiplexer"/>, which reconnects by itself.</summary>
    public static IHostApplicationBuilder AddCacheClient(this IHostApplicationBuilder builder, string name)
    {
        builder.AddRedisClient(name,
            settings =>
            {
                settings.DisableHealthChecks = true;
                // A span per Redis command would double the spans of the hot path, where every hold is one script; the
                // request's own span covers it.
                settings.DisableTracing = true;
            },
            options =>
            {
                options.AbortOnConnectFail = false;
                options.ConnectRetry = 3;
                // Replies complete on the .NET thread pool instead of the client's ten dedicated reader threads: each
                // reply otherwise wakes one of those, which then wakes a pool thread for the awaiting request. On the hold
                // path (one script per request, two cores) the hop cost the Api 5-25% of its CPU per hold.
                options.SocketManager = SocketManager.ThreadPool;
            });
        builder.Services.AddHealthChecks().AddRedis(sp => sp.GetRequiredService<IConnectionMultiplexer>(), name, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }

    /// <summary>The PostgreSQL database resource <paramref name="name"/>: a pooled <see cref="NpgsqlDataSource"/> with tracing and metrics.</summary>
    public static IHostApplicationBuilder AddDatabaseClient(this IHostApplicationBuilder builder, string name)
    {
        builder.AddNpgsqlDataSource(name, settings => settings.DisableHealthChecks = true);
        builder.Services.AddHealthChecks().AddNpgSql(name: name, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }

    /// <summary>
    /// The RabbitMQ resource <paramref name="name"/>: Aspire's connection factory (its tracing and logging) and one
    /// automatically recovering connection, opened on first use (see <see cref="RabbitMQConnection"/>).
    /// </summary>
    public static IHostApplicationBuilder AddMessagingClient(this IHostApplicationBuilder builder, string name)
    {
        builder.AddRabbitMQClient(name,
            settings =>
            {
                settings.DisableHealthChecks = true;
                settings.DisableAutoActivation = true;
            },
            factory =>
            {
                factory.AutomaticRecoveryEnabled = true;
                factory.TopologyRecoveryEnabled = true;
                factory.NetworkRecoveryInterval = TimeSpan.FromSeconds(2);
                factory.ClientProvidedName = builder.Environment.ApplicationName;
            });
        builder.Services.AddSingleton<RabbitMQConnection>();
        builder.Services.AddHealthChecks().AddCheck<RabbitMQHealthCheck>(name, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }
}

/// <summary>
/// The process's one AMQP connection, opened on first use and retried until the broker answers: a service may
/// start before the broker is reachable again, and must then become ready rather than crash.
/// </summary>
public sealed class RabbitMQConnection(IConnectionFactory factory) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public async ValueTask<IConnection> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_connection is { } existing)
        {
            return existing;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _connection ??= await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }
}

internal sealed class RabbitMQHealthCheck(RabbitMQConnection connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var open = await connection.GetAsync(cancellationToken).ConfigureAwait(false);
            return open.IsOpen ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The AMQP connection is closed (recovering).");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The broker is unreachable.", ex);
        }
    }
}
