using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Each health check's status at its last run as <c>ticketsale.health.status{check}</c>: 1 healthy, 0.5 degraded,
/// 0 unhealthy. The readiness probe says only ready or not; this says which dependency, to Prometheus's alert rules.
/// </summary>
internal sealed class HealthStatusMetrics : IHealthCheckPublisher
{
    private volatile IReadOnlyList<Measurement<double>> _statuses = [];

    public HealthStatusMetrics(IMeterFactory meters) =>
        meters.Create("TicketSale.Health").CreateObservableGauge("ticketsale.health.status", () => _statuses,
            description: "Each health check's status at its last run: 1 healthy, 0.5 degraded, 0 unhealthy");

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        _statuses = report.Entries.Select(e => new Measurement<double>(
            e.Value.Status switch { HealthStatus.Healthy => 1, HealthStatus.Degraded => 0.5, _ => 0 },
            new KeyValuePair<string, object?>("check", e.Key))).ToList();
        return Task.CompletedTask;
    }
}
