using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client;

namespace Microsoft.Extensions.Hosting;

public static class RabbitMQClientExtensions
{
    /// <summary>
    /// Registers one shared, automatically recovering <see cref="IConnection"/> to the RabbitMQ resource
    /// <paramref name="name"/> and a readiness check on it.
    /// </summary>
    public static IHostApplicationBuilder AddRabbitMQClient(this IHostApplicationBuilder builder, string name)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(ConnectionStrings.Require(builder.Configuration, name)),
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
            ClientProvidedName = builder.Environment.ApplicationName,
        };
        builder.Services.AddSingleton<IConnectionFactory>(factory);
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
