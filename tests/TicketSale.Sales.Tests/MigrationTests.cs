using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TicketSale.Core.Data;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Migrations may run in several processes at once (a migration job restarted, two deployments rolling out): none may
/// crash. The partitioning migration moves the rows already sold and keeps the active-seat index the arbiter.
/// </summary>
[Collection(SaleCollection.Name)]
public sealed class MigrationTests(SaleFixture fixture)
{
    [Fact]
    public async Task Replicas_migrating_an_empty_database_at_once_all_start_and_apply_each_migration_once()
    {
        var (database, connectionString) = await CreateDatabaseAsync();
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

            await DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task Partitioning_moves_the_orders_tickets_and_payments_sold_before_it_and_the_seat_index_still_refuses_a_second_sale()
    {
        var (database, connectionString) = await CreateDatabaseAsync();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await using var db = new TicketSaleDbContext(new DbContextOptionsBuilder<TicketSaleDbContext>().UseNpgsql(dataSource).Options);
            var migrator = db.GetInfrastructure().GetRequiredService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
            await migrator.MigrateAsync(BeforePartitioning);

            // Two campaigns' sales as the unpartitioned tables held them: 20 orders of one seat each and their charges.
            var campaigns = new[] { Guid.NewGuid(), Guid.NewGuid() };
            var orders = Enumerable.Range(0, 20).Select(i => (Id: Guid.CreateVersion7(), Campaign: campaigns[i % 2], Seat: i)).ToList();
            foreach (var order in orders)
            {
                await ExecuteAsync(dataSource, """
                    INSERT INTO "Orders" ("Id", "CampaignId", "UserId", "Status", "TotalCents", "CreatedAt", "Version") VALUES ($1, $2, $3, 'Confirmed', 4200, now(), 0);
                    """, order.Id, order.Campaign, Guid.NewGuid());
                await ExecuteAsync(dataSource, """
                    INSERT INTO "Tickets" ("Id", "OrderId", "CampaignId", "SeatIndex", "PriceCents", "Active") VALUES ($1, $2, $3, $4, 4200, TRUE);
                    """, Guid.CreateVersion7(), order.Id, order.Campaign, order.Seat);
                await ExecuteAsync(dataSource, """
                    INSERT INTO "Payments" ("PurchaseId", "GatewayChargeId", "AmountCents", "Status", "ChargedAt") VALUES ($1, $2, 4200, 'Charged', now());
                    """, order.Id, order.Id.ToString("N"));
            }

            await migrator.MigrateAsync();

            foreach (var table in new[] { "Orders", "Tickets", "Payments" })
            {
                Assert.Equal(8L, await ScalarAsync<long>(dataSource, $"SELECT count(*) FROM pg_inherits WHERE inhparent = '\"{table}\"'::regclass"));
                Assert.Equal(20L, await ScalarAsync<long>(dataSource, $"SELECT count(*) FROM \"{table}\""));
            }

            Assert.Equal(orders.Select(o => (o.Id, o.Campaign, o.Seat)).Order(),
                (await db.Tickets.AsNoTracking().Select(t => new { t.OrderId, t.CampaignId, t.SeatIndex }).ToListAsync()).Select(t => (t.OrderId, t.CampaignId, t.SeatIndex!.Value)).Order());
            Assert.Equal(20, await db.Orders.Include(o => o.Tickets).CountAsync(o => o.Tickets.Count == 1));

            // A second active ticket for a seat already sold in the same campaign is refused, from any order; the same
            // seat in the other campaign is a different seat.
            var (first, other) = (orders[0], Guid.CreateVersion7());
            await ExecuteAsync(dataSource, """
                INSERT INTO "Orders" ("Id", "CampaignId", "UserId", "Status", "TotalCents", "CreatedAt", "Version") VALUES ($1, $2, $3, 'Confirmed', 4200, now(), 0);
                """, other, first.Campaign, Guid.NewGuid());
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(dataSource, """
                INSERT INTO "Tickets" ("Id", "OrderId", "CampaignId", "SeatIndex", "PriceCents", "Active") VALUES ($1, $2, $3, $4, 4200, TRUE);
                """, Guid.CreateVersion7(), other, first.Campaign, first.Seat));
            Assert.Equal(PostgresErrorCodes.UniqueViolation, refused.SqlState);
            Assert.StartsWith("UX_Tickets_ActiveSeat", refused.ConstraintName, StringComparison.Ordinal);
            var (otherCampaign, otherOrder) = (campaigns.Single(c => c != first.Campaign), Guid.CreateVersion7());
            await ExecuteAsync(dataSource, """
                INSERT INTO "Orders" ("Id", "CampaignId", "UserId", "Status", "TotalCents", "CreatedAt", "Version") VALUES ($1, $2, $3, 'Confirmed', 4200, now(), 0);
                """, otherOrder, otherCampaign, Guid.NewGuid());
            await ExecuteAsync(dataSource, """
                INSERT INTO "Tickets" ("Id", "OrderId", "CampaignId", "SeatIndex", "PriceCents", "Active") VALUES ($1, $2, $3, $4, 4200, TRUE);
                """, Guid.CreateVersion7(), otherOrder, otherCampaign, first.Seat);

            // A ticket still needs its order (the foreign key runs partition to partition).
            var orphan = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(dataSource, """
                INSERT INTO "Tickets" ("Id", "OrderId", "CampaignId", "SeatIndex", "PriceCents", "Active") VALUES ($1, $2, $3, 2000, 4200, TRUE);
                """, Guid.CreateVersion7(), Guid.CreateVersion7(), first.Campaign));
            Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, orphan.SqlState);

            // And back: the rows return to plain tables.
            await migrator.MigrateAsync(BeforePartitioning);
            Assert.Equal(0L, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM pg_partitioned_table"));
            Assert.Equal(22L, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM \"Orders\""));
            Assert.Equal(21L, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM \"Tickets\""));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await DropDatabaseAsync(database);
        }
    }

    private const string BeforePartitioning = "20261206235806_EmailVerification";

    private async Task<(string Database, string ConnectionString)> CreateDatabaseAsync()
    {
        var database = $"migrate_{Guid.NewGuid():N}";
        await using var admin = new NpgsqlConnection(fixture.TicketsConnectionString);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
        await create.ExecuteNonQueryAsync();
        return (database, new NpgsqlConnectionStringBuilder(fixture.TicketsConnectionString) { Database = database }.ConnectionString);
    }

    private async Task DropDatabaseAsync(string database)
    {
        await using var admin = new NpgsqlConnection(fixture.TicketsConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, params object[] values)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
