using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using TicketSale.Core.Data;

namespace TicketSale.Core.Security;

/// <summary>The actions the audit log records (<see cref="AuditEntry.Action"/>).</summary>
public static class AuditActions
{
    public const string SignIn = "sign-in";
    public const string SignInFailed = "sign-in-failed";
    public const string SignInDelayed = "sign-in-delayed";
    public const string SignInRefused = "sign-in-refused";
    public const string SecondFactorFailed = "second-factor-failed";
    public const string RefreshTokenReused = "refresh-token-reused";
    public const string PasswordChanged = "password-changed";
    public const string SecondFactorEnrolled = "second-factor-enrolled";
    public const string AccountDisabled = "account-disabled";
    public const string AccountEnabled = "account-enabled";
    public const string RoleChanged = "role-changed";
    public const string AdminChange = "admin-change";
    public const string Refund = "refund";
    public const string CheckIn = "check-in";

    public static readonly IReadOnlyList<string> All = [SignIn, SignInFailed, SignInDelayed, SignInRefused, SecondFactorFailed,
        RefreshTokenReused, PasswordChanged, SecondFactorEnrolled, AccountDisabled, AccountEnabled, RoleChanged, AdminChange, Refund, CheckIn];
}

/// <summary>
/// Hands audit entries to <see cref="AuditWriter"/> without making the request that caused them wait for PostgreSQL.
/// Bounded: a flood (wrong passwords by the thousand) cannot fill the memory; what does not fit is counted as an error
/// in the log, where the same event is also written (<see cref="SecurityEvents"/>).
/// </summary>
public sealed partial class AuditTrail(TimeProvider time, ILogger<AuditTrail> logger)
{
    private readonly Channel<AuditEntry> _entries = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    internal ChannelReader<AuditEntry> Reader => _entries.Reader;

    public void Record(string action, Guid? actorId, string? account, Guid? subjectId, string? address, string detail)
    {
        var entry = new AuditEntry
        {
            At = time.GetUtcNow(),
            Action = action,
            ActorId = actorId,
            // As accounts are stored: the console finds a failed sign-in typed in capitals by the account's address.
            Account = account is null ? null : Truncate(account.Trim().ToLowerInvariant(), 254),
            SubjectId = subjectId,
            Address = address is null ? null : Truncate(address, 64),
            Detail = Truncate(detail, 500),
        };
        if (!_entries.Writer.TryWrite(entry))
        {
            LogDropped(logger, action, account);
        }
    }

    internal void Complete() => _entries.Writer.TryComplete();

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];

    [LoggerMessage(LogLevel.Error, "The audit log is full: a {Action} entry for {Account} was not stored (the security event's log record has it)")]
    private static partial void LogDropped(ILogger logger, string action, string? account);
}

/// <summary>
/// Appends the audit trail's entries to PostgreSQL in batches (one INSERT over arrays), and what is left when the
/// service stops. A failed write is tried again; entries are never updated.
/// </summary>
public sealed partial class AuditWriter(AuditTrail trail, NpgsqlDataSource dataSource, ILogger<AuditWriter> logger) : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditEntry>(BatchSize);
        try
        {
            while (await trail.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < BatchSize && trail.Reader.TryRead(out var entry))
                {
                    batch.Add(entry);
                }

                await WriteAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Stopping: what is still queued is written before the process ends.
        trail.Complete();
        while (trail.Reader.TryRead(out var entry))
        {
            batch.Add(entry);
        }

        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await WriteAsync(batch, last.Token);
    }

    private async Task WriteAsync(List<AuditEntry> batch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; batch.Count > 0; attempt++)
        {
            try
            {
                await using var insert = dataSource.CreateCommand(
                    """
                    INSERT INTO "AuditEntries" ("At", "Action", "ActorId", "Account", "SubjectId", "Address", "Detail")
                    SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[])
                    """);
                insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.At.ToUniversalTime()).ToArray() });
                insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Action).ToArray() });
                insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.ActorId).ToArray() });
                insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Account).ToArray() });
                insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.SubjectId).ToArray() });
                insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Address).ToArray() });
                insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Detail).ToArray() });
                await insert.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            catch (Exception ex) when ((ex is NpgsqlException { IsTransient: true } or TimeoutException) && !cancellationToken.IsCancellationRequested)
            {
                // PostgreSQL away for a moment (a restart, a failover): the entries wait here, in order.
                LogWriteFailed(logger, ex, batch.Count, attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt)), cancellationToken);
            }
            catch (NpgsqlException ex)
            {
                // Refused for good (a schema or a privilege out of step): trying again would hold every later entry back.
                LogWriteRefused(logger, ex, batch.Count);
                return;
            }
        }
    }

    [LoggerMessage(LogLevel.Error, "{Count} audit entries were refused by the database and are not stored (their security events' log records have them)")]
    private static partial void LogWriteRefused(ILogger logger, Exception exception, int count);

    [LoggerMessage(LogLevel.Warning, "{Count} audit entries could not be written (attempt {Attempt}); trying again")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count, int attempt);
}

public static class AuditTrailExtensions
{
    /// <summary>The security events, and the audit log they are written to (<see cref="AuditEntry"/>).</summary>
    public static IServiceCollection AddAuditTrail(this IServiceCollection services)
    {
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<SecurityEvents>();
        services.AddHostedService<AuditWriter>();
        return services;
    }
}
