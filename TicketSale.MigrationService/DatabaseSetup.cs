using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TicketSale.Core.Data;

namespace TicketSale.MigrationService;

/// <summary>
/// Least privilege in the database. The logins come as connection strings: <c>tickets</c> the server's admin (used
/// here only), <c>tickets-owner</c> the role that owns the schema and runs the migrations, <c>tickets-api</c> and
/// <c>tickets-worker</c> the services' roles, which may read and write rows and nothing else: no DDL, no other
/// database, and the Worker not the accounts table (it never reads it). Every step is idempotent, so this runs on each
/// start; a role's password follows its connection string.
/// </summary>
internal sealed partial class DatabaseSetup(IConfiguration configuration, ILogger<DatabaseSetup> logger)
{
    private const int Attempts = 10;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var admin = new NpgsqlConnectionStringBuilder(Required("tickets"));
        var owner = Login("tickets-owner");
        var api = Login("tickets-api");
        var worker = Login("tickets-worker");
        var database = Identifier(admin.Database ?? throw new InvalidOperationException("ConnectionStrings:tickets names no database."));

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using (var adminSource = NpgsqlDataSource.Create(admin.ConnectionString))
                {
                    await ExecuteAsync(adminSource, RolesSql(database, owner, api, worker), cancellationToken);
                    await SetPasswordsAsync(adminSource, [owner, api, worker], cancellationToken);
                }

                await using (var ownerSource = NpgsqlDataSource.Create(WithLogin(admin, owner)))
                {
                    await using var db = new TicketSaleDbContext(new DbContextOptionsBuilder<TicketSaleDbContext>().UseNpgsql(ownerSource).Options);
                    await DatabaseExtensions.MigrateAsync(ownerSource, db, cancellationToken);
                    // The owner grants on what it owns: tables a migration just added included.
                    await ExecuteAsync(ownerSource, GrantsSql(api, worker), cancellationToken);
                }

                LogMigrated(logger, database, owner.User, api.User, worker.User);
                return;
            }
            catch (NpgsqlException ex) when (ex.IsTransient && attempt < Attempts && !cancellationToken.IsCancellationRequested)
            {
                LogRetrying(logger, ex, attempt);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private static string RolesSql(string database, DatabaseLogin owner, DatabaseLogin api, DatabaseLogin worker) => $"""
        DO $roles$
        DECLARE role_name text;
        BEGIN
          FOREACH role_name IN ARRAY ARRAY['{owner.User}', '{api.User}', '{worker.User}'] LOOP
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
              EXECUTE format('CREATE ROLE %I LOGIN', role_name);
            END IF;
            EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', role_name);
          END LOOP;
        END
        $roles$;
        ALTER DATABASE {database} OWNER TO {owner.User};
        REVOKE ALL ON DATABASE {database} FROM PUBLIC;
        GRANT CONNECT ON DATABASE {database} TO {api.User}, {worker.User};
        -- Tables made before the owner role existed (by the admin) become the owner's, so that migrations can alter them.
        DO $owner$
        DECLARE relation record;
        BEGIN
          FOR relation IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND pg_get_userbyid(c.relowner) <> '{owner.User}' LOOP
            EXECUTE format('ALTER %s public.%I OWNER TO %I',
              CASE relation.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, relation.relname, '{owner.User}');
          END LOOP;
        END
        $owner$;
        """;

    private static string GrantsSql(DatabaseLogin api, DatabaseLogin worker) => $"""
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
        GRANT USAGE ON SCHEMA public TO {api.User}, {worker.User};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {api.User}, {worker.User};
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {api.User}, {worker.User};
        REVOKE ALL ON TABLE "Users" FROM {worker.User};
        -- The Worker mails buyers: their address, nothing else of their account (no password hash, no second factor).
        GRANT SELECT ("Id", "Email") ON TABLE "Users" TO {worker.User};
        REVOKE ALL ON TABLE "__EFMigrationsHistory" FROM {api.User}, {worker.User};
        -- The audit log is append-only for the services: what happened cannot be rewritten by whoever took one over.
        REVOKE UPDATE, DELETE, TRUNCATE ON TABLE "AuditEntries" FROM {api.User}, {worker.User};
        """;

    /// <summary>Passwords as parameters, never in the statement text (which the server may log).</summary>
    private static async Task SetPasswordsAsync(NpgsqlDataSource admin, IEnumerable<DatabaseLogin> logins, CancellationToken cancellationToken)
    {
        foreach (var login in logins)
        {
            await using var format = admin.CreateCommand("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)");
            format.Parameters.AddWithValue(login.User);
            format.Parameters.AddWithValue(login.Password);
            var statement = (string)(await format.ExecuteScalarAsync(cancellationToken))!;
            await using var alter = admin.CreateCommand(statement);
            await alter.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task ExecuteAsync(NpgsqlDataSource source, string sql, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private string Required(string name) => configuration.GetConnectionString(name) is { Length: > 0 } value
        ? value
        : throw new InvalidOperationException($"ConnectionStrings:{name} is required.");

    private DatabaseLogin Login(string name)
    {
        var login = new NpgsqlConnectionStringBuilder(Required(name));
        return new DatabaseLogin(Identifier(login.Username ?? ""), login.Password is { Length: > 0 } password
            ? password
            : throw new InvalidOperationException($"ConnectionStrings:{name} has no password."));
    }

    private static string WithLogin(NpgsqlConnectionStringBuilder admin, DatabaseLogin login) =>
        new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Username = login.User, Password = login.Password }.ConnectionString;

    /// <summary>Role and database names go into statements as identifiers: plain lower-case names only.</summary>
    private static string Identifier(string name) => PlainIdentifier().IsMatch(name)
        ? name
        : throw new InvalidOperationException($"'{name}' is not a plain lower-case PostgreSQL name.");

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex PlainIdentifier();

    [LoggerMessage(Level = LogLevel.Information, Message = "Database {Database} migrated by {Owner}; services connect as {Api} and {Worker}")]
    private static partial void LogMigrated(ILogger logger, string database, string owner, string api, string worker);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database set-up attempt {Attempt} failed; trying again")]
    private static partial void LogRetrying(ILogger logger, Exception exception, int attempt);

    private sealed record DatabaseLogin(string User, string Password);
}
