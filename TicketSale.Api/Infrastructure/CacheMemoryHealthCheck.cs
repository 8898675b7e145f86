using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace TicketSale.Api.Infrastructure;

/// <summary>
/// Redis runs with <c>noeviction</c> (sale state must never be evicted), so reaching its <c>maxmemory</c> would refuse
/// every hold. Reported Degraded from <see cref="WarnAt"/> of the ceiling on: the readiness report and the dashboard
/// say so while there is room left (a Degraded replica still serves). The share used at its last run is exported as
/// <c>ticketsale.cache.memory.used_ratio</c> (the health checks run every 10 s: ServiceDefaults' HealthStatusMetrics).
/// </summary>
public sealed class CacheMemoryHealthCheck : IHealthCheck
{
    public const string Name = "cache-memory";
    public const double WarnAt = 0.8;

    private readonly IConnectionMultiplexer _redis;
    private double _usedRatio = double.NaN;

    public CacheMemoryHealthCheck(IConnectionMultiplexer redis, IMeterFactory meters)
    {
        _redis = redis;
        meters.Create("TicketSale.Api").CreateObservableGauge("ticketsale.cache.memory.used_ratio", ObserveUsedRatio,
            description: "The share of Redis's memory ceiling in use at the last check (absent without a ceiling)");
    }

    private IEnumerable<Measurement<double>> ObserveUsedRatio()
    {
        var ratio = Volatile.Read(ref _usedRatio);
        return double.IsNaN(ratio) ? [] : [new Measurement<double>(ratio)];
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string info;
        try
        {
            // INFO through a script: the client allows it only on admin connections, which the services do not open.
            info = (string)(await _redis.GetDatabase().ScriptEvaluateAsync("return redis.call('INFO', 'memory')"))!;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Reaching Redis at all is the cache check's verdict; this one only warns.
            return HealthCheckResult.Degraded("Redis's memory could not be read.", ex);
        }

        var memory = info.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1]);
        var used = long.Parse(memory.GetValueOrDefault("used_memory", "0"), CultureInfo.InvariantCulture);
        var max = long.Parse(memory.GetValueOrDefault("maxmemory", "0"), CultureInfo.InvariantCulture);
        if (max == 0)
        {
            return HealthCheckResult.Healthy($"{used / 1_048_576} MB used, no ceiling.");
        }

        var share = (double)used / max;
        Volatile.Write(ref _usedRatio, share);
        var description = $"{used / 1_048_576} MB of {max / 1_048_576} MB used ({share:P0}), policy {memory.GetValueOrDefault("maxmemory_policy", "?")}.";
        return share >= WarnAt ? HealthCheckResult.Degraded(description) : HealthCheckResult.Healthy(description);
    }
}
