using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace TicketSale.Core.Data;

public static class DatabaseExtensions
{
    /// <summary>
    /// The EF Core context over the pooled data source that ServiceDefaults registered for the <c>tickets</c> database.
    /// A few quick retries on transient errors: after a database restart the pool still holds dead connections, and
    /// the first use of each fails. Explicit transactions run inside <c>CreateExecutionStrategy().ExecuteAsync</c>.
    /// </summary>
    public static IServiceCollection AddTicketSaleDatabase(this IServiceCollection services) =>
        services.AddDbContextPool<TicketSaleDbContext>((sp, options) => options.UseNpgsql(
            sp.GetRequiredService<Npgsql.NpgsqlDataSource>(),
            npgsql => npgsql.EnableRetryOnFailure(maxRetryCount: 3, maxRetryDelay: TimeSpan.FromSeconds(1), errorCodesToAdd: null)));

    /// <summary>
    /// Applies pending migrations before the service takes traffic. Every service may call this at start-up:
    /// EF Core takes a database lock while migrating, so replicas starting together apply each migration once.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this IHost host, CancellationToken cancellationToken = default)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
    }
}
