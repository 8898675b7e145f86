using Npgsql;

namespace TicketSale.Sales.Tests;

/// <summary>
/// A service that is broken into reaches PostgreSQL only as its own role: rows yes, schema no, the server's admin never.
/// The attacks run with the very login the service was started with.
/// </summary>
[Collection(SaleCollection.Name)]
public sealed class DatabaseRolesTests(SaleFixture fixture)
{
    [Theory]
    [InlineData("api", "ticketsale_api")]
    [InlineData("worker", "ticketsale_worker")]
    public async Task A_service_connects_as_its_own_role_which_may_change_rows_and_not_the_schema(string service, string role)
    {
        var login = new NpgsqlConnectionStringBuilder(fixture.App.GetServiceEnvironment(service)["ConnectionStrings__tickets"]);
        var admin = new NpgsqlConnectionStringBuilder(fixture.TicketsConnectionString);
        Assert.Equal(role, login.Username);
        Assert.NotEqual(admin.Password, login.Password);
        Assert.DoesNotContain(fixture.App.GetServiceEnvironment(service).Values, v => v.Contains(admin.Password!, StringComparison.Ordinal));

        await using var connection = new NpgsqlConnection(login.ConnectionString);
        await connection.OpenAsync();
        Assert.False(await ScalarAsync<bool>(connection, "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = current_user"));
        Assert.True(await ScalarAsync<long>(connection, "SELECT count(*) FROM \"Campaigns\"") >= 0);
        await ExecuteAsync(connection, "INSERT INTO \"AuditEntries\" (\"At\", \"Action\", \"Detail\") VALUES (now(), 'admin-change', 'a role test writes a line')");

        foreach (var attack in new[]
        {
            "CREATE TABLE stolen (x int)",
            "DROP TABLE \"Orders\"",
            "ALTER TABLE \"Tickets\" DROP CONSTRAINT IF EXISTS \"PK_Tickets\"",
            "TRUNCATE \"Payments\"",
            "CREATE ROLE intruder LOGIN SUPERUSER",
            "DELETE FROM \"__EFMigrationsHistory\"",
            "COPY \"Orders\" TO PROGRAM 'id'",
            // The audit log takes new lines only.
            "UPDATE \"AuditEntries\" SET \"Detail\" = 'nothing happened'",
            "DELETE FROM \"AuditEntries\"",
            "TRUNCATE \"AuditEntries\"",
        })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, attack));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
    }

    [Fact]
    public async Task The_worker_reads_the_buyers_addresses_and_nothing_else_of_their_accounts()
    {
        var login = fixture.App.GetServiceEnvironment("worker")["ConnectionStrings__tickets"];
        await using var connection = new NpgsqlConnection(login);
        await connection.OpenAsync();

        // It mails buyers: their address, by their id.
        Assert.True(await ScalarAsync<long>(connection, "SELECT count(\"Email\") FROM \"Users\" WHERE \"Id\" IS NOT NULL") > 0);
        foreach (var sql in new[] { "SELECT count(\"PasswordHash\") FROM \"Users\"", "SELECT count(\"TotpSecret\") FROM \"Users\"", "SELECT count(*) FROM (SELECT * FROM \"Users\") u",
            "UPDATE \"Users\" SET \"Email\" = \"Email\" WHERE false" })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<long>(connection, sql));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
    }

    [Fact]
    public async Task The_services_connections_at_the_server_are_all_their_own_roles()
    {
        await using var admin = new NpgsqlConnection(fixture.TicketsConnectionString);
        await admin.OpenAsync();
        var adminUser = new NpgsqlConnectionStringBuilder(fixture.TicketsConnectionString).Username;
        await using var command = new NpgsqlCommand(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename IS NOT NULL", admin);
        var users = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                users.Add(reader.GetString(0));
            }
        }

        Assert.Contains("ticketsale_api", users);
        Assert.Contains("ticketsale_worker", users);
        // The tests' own inspections use the admin login; no service does.
        Assert.All(users, u => Assert.Contains(u, new[] { "ticketsale_api", "ticketsale_worker", adminUser }));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
