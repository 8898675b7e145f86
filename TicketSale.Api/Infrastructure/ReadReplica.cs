using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using TicketSale.Core.Data;

namespace TicketSale.Api.Infrastructure;

public sealed class ReplicaOptions
{
    public const string Section = "Database:Replica";

    /// <summary>How far behind the primary the standby may be and still be read; past it reads go to the primary.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan MaxLag { get; set; } = TimeSpan.FromSeconds(5);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Watches the PostgreSQL standby (<c>ConnectionStrings:tickets-replica</c>): whether it answers and how far it trails the
/// primary. The lag is measured against the primary's own WAL position, not the standby's replay clock (which stands
/// still when the primary is idle, and keeps its last value when the standby stops receiving): every check notes the
/// primary's position and when it was seen; the standby holds everything the primary had committed as of the latest such
/// moment whose position it has replayed, and the lag is how long ago that was. Exported as <c>ticketsale.database.replica.lag</c> and <c>.up</c>.
/// </summary>
public sealed partial class ReplicaMonitor : BackgroundService
{
    public const string ConnectionName = "tickets-replica";

    private readonly NpgsqlDataSource _primary;
    private readonly NpgsqlDataSource? _replica;
    private readonly DbContextOptions<TicketSaleDbContext>? _replicaContext;
    private readonly ReplicaOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ReplicaMonitor> _logger;
    // The primary's positions the standby had not replayed when last checked, each with when it was seen, oldest first.
    private readonly Queue<(NpgsqlLogSequenceNumber Position, DateTimeOffset SeenAt)> _unreplayed = new();
    private volatile State _state = new(Reachable: false, Lag: TimeSpan.Zero, ReplayedAsOf: DateTimeOffset.MinValue, Detail: "not checked yet");

    public ReplicaMonitor(NpgsqlDataSource primary, IServiceProvider services, IOptions<ReplicaOptions> options, TimeProvider time,
        IMeterFactory meters, ILogger<ReplicaMonitor> logger)
    {
        _primary = primary;
        _replica = services.GetKeyedService<NpgsqlDataSource>(ConnectionName);
        _options = options.Value;
        _time = time;
        _logger = logger;
        if (_replica is null)
        {
            return;
        }

        _replicaContext = new DbContextOptionsBuilder<TicketSaleDbContext>()
            .UseNpgsql(_replica)
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking)
            .Options;
        // Only with a standby: without one there is nothing to be down or behind.
        var meter = meters.Create("TicketSale.Api");
        meter.CreateObservableGauge("ticketsale.database.replica.lag", () => _state.Lag == TimeSpan.MaxValue ? double.PositiveInfinity : _state.Lag.TotalSeconds, unit: "s",
            description: "How far the PostgreSQL standby trails the primary (0 when it has replayed everything)");
        meter.CreateObservableGauge("ticketsale.database.replica.up", () => _state.Reachable ? 1 : 0,
            description: "Whether the PostgreSQL standby answered its last check");
        meter.CreateObservableGauge("ticketsale.database.replica.in_use", () => Usable ? 1 : 0,
            description: "Whether stale-tolerant reads go to the standby (1) or to the primary (0)");
    }

    public bool Configured => _replica is not null;

    /// <summary>Whether stale-tolerant reads may go to the standby now: it answers and trails by at most the bound.</summary>
    public bool Usable => _replica is not null && _state.Reachable && _state.Lag <= _options.MaxLag;

    public string Detail => _state.Detail;

    /// <summary>
    /// A context on the standby (no tracking: nothing read there is ever written back), or null when it is not usable or,
    /// given <paramref name="changedAt"/>, has not yet replayed what the primary had committed by then.
    /// </summary>
    public TicketSaleDbContext? CreateContext(DateTimeOffset? changedAt = null) =>
        Usable && (changedAt is null || _state.ReplayedAsOf >= changedAt) ? new TicketSaleDbContext(_replicaContext!) : null;

    /// <summary>A read on the standby failed: reads go to the primary until the next check finds it answering.</summary>
    public void ReportFailure(Exception exception)
    {
        _state = _state with { Reachable = false, Detail = $"a read failed: {exception.Message}" };
        LogReadFailed(_logger, exception);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_replica is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.CheckInterval, _time);
        do
        {
            try
            {
                await CheckAsync(stoppingToken);
            }
            // Whatever fails here only takes the standby out of use: a crashed monitor would stop the Api.
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                if (_state.Reachable)
                {
                    LogUnreachable(_logger, ex);
                }

                _state = _state with { Reachable = false, Detail = ex.Message };
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        NpgsqlLogSequenceNumber primaryPosition;
        await using (var command = _primary.CreateCommand("SELECT pg_current_wal_lsn()"))
        {
            primaryPosition = (NpgsqlLogSequenceNumber)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        var seenAt = _time.GetUtcNow();
        object? replayed;
        await using (var command = _replica!.CreateCommand("SELECT pg_last_wal_replay_lsn()"))
        {
            replayed = await command.ExecuteScalarAsync(cancellationToken);
        }

        if (replayed is not NpgsqlLogSequenceNumber replayPosition)
        {
            // Not in recovery: promoted, or not a standby at all. Its rows may no longer be the primary's.
            _state = new State(Reachable: false, TimeSpan.Zero, DateTimeOffset.MinValue, "the server is not a standby (not in recovery)");
            return;
        }

        // The primary was at primaryPosition when seen, so whatever it had committed by then is on the standby once the
        // standby has replayed that far.
        var replayedAsOf = _state.ReplayedAsOf;
        if (replayPosition >= primaryPosition)
        {
            _unreplayed.Clear();
            replayedAsOf = seenAt;
        }
        else
        {
            if (_unreplayed.Count == 0 || _unreplayed.Last().Position < primaryPosition)
            {
                _unreplayed.Enqueue((primaryPosition, seenAt));
            }

            while (_unreplayed.Count > 0 && _unreplayed.Peek().Position <= replayPosition)
            {
                replayedAsOf = _unreplayed.Dequeue().SeenAt;
            }
        }

        var lag = replayedAsOf == DateTimeOffset.MinValue ? TimeSpan.MaxValue : seenAt - replayedAsOf;
        var wasUsable = Usable;
        _state = new State(Reachable: true, lag, replayedAsOf, lag == TimeSpan.MaxValue ? "catching up with the primary"
            : lag <= _options.MaxLag ? $"{lag.TotalSeconds:0.0} s behind the primary"
            : $"{lag.TotalSeconds:0.0} s behind the primary, over the bound of {_options.MaxLag.TotalSeconds:0.#} s: reads go to the primary");
        if (wasUsable != Usable)
        {
            LogUsableChanged(_logger, Usable, _state.Detail);
        }
    }

    /// <param name="ReplayedAsOf">Everything the primary had committed by then is on the standby.</param>
    private sealed record State(bool Reachable, TimeSpan Lag, DateTimeOffset ReplayedAsOf, string Detail);

    [LoggerMessage(LogLevel.Warning, "The PostgreSQL standby does not answer; stale-tolerant reads go to the primary")]
    private static partial void LogUnreachable(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "A read on the PostgreSQL standby failed; it is read again from the primary")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Information, "Stale-tolerant reads go to the standby: {Usable} ({Detail})")]
    private static partial void LogUsableChanged(ILogger logger, bool usable, string detail);
}

/// <summary>
/// Reads that may be a little stale — the public campaign list, a buyer's order list, sales figures, the dashboard — on
/// the standby while it is usable, else (or when the read fails there) on the primary. Nothing that decides a sale, a
/// confirmation, a refund or a reconciliation comes through here: those take the primary's context directly.
/// </summary>
public sealed class StaleReads(TicketSaleDbContext primary, ReplicaMonitor replica)
{
    /// <param name="changedAt">When what is read last changed, if known: the standby is read only once it holds that change.</param>
    public async Task<T> QueryAsync<T>(Func<TicketSaleDbContext, CancellationToken, Task<T>> query, CancellationToken cancellationToken, DateTimeOffset? changedAt = null)
    {
        if (replica.CreateContext(changedAt) is { } standby)
        {
            await using (standby)
            {
                try
                {
                    return await query(standby, cancellationToken);
                }
                // EF Core wraps a transient failure ("likely due to a transient failure") when it does not retry.
                catch (Exception ex) when ((ex is NpgsqlException || ex.InnerException is NpgsqlException) && !cancellationToken.IsCancellationRequested)
                {
                    replica.ReportFailure(ex);
                }
            }
        }

        return await query(primary, cancellationToken);
    }
}

/// <summary>
/// The standby in the readiness report: Degraded (never Unhealthy: the primary serves every read) when it is down or
/// trails past the bound.
/// </summary>
public sealed class ReplicaHealthCheck(ReplicaMonitor replica) : IHealthCheck
{
    public const string Name = ReplicaMonitor.ConnectionName;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(!replica.Configured ? HealthCheckResult.Healthy("No standby configured: every read goes to the primary.")
            : replica.Usable ? HealthCheckResult.Healthy(replica.Detail)
            : HealthCheckResult.Degraded(replica.Detail));
}

public static class ReadReplicaExtensions
{
    /// <summary>
    /// <see cref="StaleReads"/>, with the standby's data source when <c>ConnectionStrings:tickets-replica</c> is set
    /// (short timeouts: a standby that hangs must cost a read little before it goes to the primary).
    /// </summary>
    public static IHostApplicationBuilder AddStaleReads(this IHostApplicationBuilder builder)
    {
        if (!string.IsNullOrEmpty(builder.Configuration.GetConnectionString(ReplicaMonitor.ConnectionName)))
        {
            builder.AddKeyedNpgsqlDataSource(ReplicaMonitor.ConnectionName, settings => settings.DisableHealthChecks = true, dataSource =>
            {
                dataSource.ConnectionStringBuilder.Timeout = 2;
                dataSource.ConnectionStringBuilder.CommandTimeout = 10;
            });
        }

        builder.Services.AddOptions<ReplicaOptions>().Bind(builder.Configuration.GetSection(ReplicaOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ReplicaMonitor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReplicaMonitor>());
        builder.Services.AddScoped<StaleReads>();
        builder.Services.AddHealthChecks().AddCheck<ReplicaHealthCheck>(ReplicaHealthCheck.Name, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }
}
