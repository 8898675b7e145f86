using Microsoft.EntityFrameworkCore;
using Npgsql;
using TicketSale.Core.Data;

namespace TicketSale.Sales.Tests;

/// <summary>Migrations may run in several processes at once (a migration job restarted, two deployments rolling out): none may crash.</summary>
[Collection(SaleCollection.Name)]
public sealed class MigrationTests(SaleFixture fixture)
{
    [Fact]
    public async Task Replicas_migrating_an_empty_database_at_once_all_start_and_apply_each_migration_once()
    {
        var database = $"migrate_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(fixture.TicketsConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(fixture.TicketsConnectionString) { Database = database }.ConnectionString;
        var replicas = Enumerable.Range(0, 6).Select(_ => NpgsqlDataSource.Create(connectionString)).ToList();
        try
        {
            using var start = new Barrier(replicas.Count);
            await Task.WhenAll(replicas.Select(dataSource => Task.Run(async () =>
            {
                await using var db = new TicketSaleDbContext(new DbContextOptionsBuilder<TicketSaleDbContext>().UseNpgsql(dataSource).Options);
                start.SignalAndWait();
                await DatabaseExtensions.MigrateAsync(dataSource, db);
            })));

            await using var check = new TicketSaleDbContext(new DbContextOptionsBuilder<TicketSaleDbContext>().UseNpgsql(replicas[0]).Options);
            Assert.Empty(await check.Database.GetPendingMigrationsAsync());
            Assert.Equal(check.Database.GetMigrations(), await check.Database.GetAppliedMigrationsAsync());
        }
        finally
        {
            foreach (var dataSource in replicas)
            {
                await dataSource.DisposeAsync();
            }

            await using var admin = new NpgsqlConnection(fixture.TicketsConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
