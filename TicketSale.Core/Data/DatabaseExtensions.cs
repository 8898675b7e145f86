using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace TicketSale.Core.Data;

public static class DatabaseExtensions
{
    /// <summary>
    /// The EF Core context over the pooled data source that ServiceDefaults registered for the <c>tickets</c> database,
    /// with Aspire's EF Core telemetry. A few quick retries on transient errors: after a database restart the pool still
    /// holds dead connections, and the first use of each fails. Explicit transactions run inside
    /// <c>CreateExecutionStrategy().ExecuteAsync</c>.
    /// </summary>
    public static IHostApplicationBuilder AddTicketSaleDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDbContextPool<TicketSaleDbContext>((sp, options) => options.UseNpgsql(
            sp.GetRequiredService<NpgsqlDataSource>(),
            npgsql => npgsql.EnableRetryOnFailure(maxRetryCount: 3, maxRetryDelay: TimeSpan.FromSeconds(1), errorCodesToAdd: null)));
        // The retry strategy above and the data source's readiness check are this system's own.
        builder.EnrichNpgsqlDbContext<TicketSaleDbContext>(settings =>
        {
            settings.DisableRetry = true;
            settings.DisableHealthChecks = true;
        });
        return builder;
    }

    /// <summary>
    /// Applies pending migrations, one process at a time. EF Core's own migration lock on PostgreSQL lasts one
    /// migration's transaction only: with two migrations pending, a replica that read the history before another
    /// applied the second applied it again ("relation … already exists") and crashed at start-up. A session advisory
    /// lock held across the whole of it makes the next process read the history after the first is done.
    /// </summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, TicketSaleDbContext db, CancellationToken cancellationToken = default)
    {
        await using var gate = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", gate))
        {
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await db.Database.MigrateAsync(cancellationToken);
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationLockKey})", gate);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>The advisory lock that serialises migrations (any fixed number no other code locks: "TSmigrat").</summary>
    private const long MigrationLockKey = 0x54536D6967726174;
}
