using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace TicketSale.AppHost.LocalServers;

/// <summary>
/// The files and commands of a local PostgreSQL cluster: where its data lives, how it is initialised, how it runs.
/// </summary>
internal sealed class PostgresCluster
{
    private const string ServiceUser = LocalPostgresResource.UserName;

    /// <summary>
    /// Runs the server and turns the orchestrator's SIGTERM into PostgreSQL's fast shutdown (SIGINT): its own SIGTERM
    /// waits for every client to disconnect, and the services' connection pools never do. Exits with the server's code.
    /// </summary>
    private const string Supervisor = """
        trap 'kill -INT "$child" 2>/dev/null' TERM INT
        "$@" &
        child=$!
        while :; do
          wait "$child"; status=$?
          kill -0 "$child" 2>/dev/null || exit "$status"
        done
        """;

    private readonly MachineBinaries _binaries;
    private readonly string _postgres;

    public PostgresCluster(StateFolder state, string name, MachineBinaries binaries)
    {
        _binaries = binaries;
        _postgres = binaries.Find("postgres", "postgresql");
        DataDirectory = PickDataDirectory(state, name);
        Command = RunsAsServiceUser ? binaries.Find("setpriv", "util-linux") : binaries.Find("bash", "bash");
    }

    public string DataDirectory { get; }

    public string Command { get; }

    private string SocketDirectory => Path.GetFullPath(Path.Combine(DataDirectory, "..", "run"));

    private static bool RunsAsServiceUser => Environment.UserName == "root";

    /// <summary>The replication slot a standby of this project streams from: the primary keeps the WAL it has not yet received.</summary>
    public const string ReplicationSlot = "ticketsale_replica";

    public IEnumerable<string> Arguments(int port, bool standby = false)
    {
        if (RunsAsServiceUser)
        {
            yield return $"--reuid={ServiceUser}";
            yield return $"--regid={ServiceUser}";
            yield return "--init-groups";
            yield return "bash";
        }

        foreach (var arg in new[]
        {
            "-c", Supervisor, "postgres-supervisor", _postgres, "-D", DataDirectory,
            "-c", "listen_addresses=127.0.0.1",
            "-c", $"port={port.ToString(CultureInfo.InvariantCulture)}",
            "-c", $"unix_socket_directories={SocketDirectory}",
            "-c", "max_connections=300",
            "-c", standby ? "shared_buffers=128MB" : "shared_buffers=256MB",
            // A standby that is down or paused must not fill the primary's disk with the WAL its slot keeps: past this the
            // slot is given up and the standby has to be cloned again (the AppHost does so on its next start).
            "-c", "max_slot_wal_keep_size=1GB",
            // Queries on the standby hold back the primary's vacuum rather than being cancelled by its replay.
            "-c", "hot_standby_feedback=on",
        })
        {
            yield return arg;
        }
    }

    /// <summary>
    /// Makes this cluster a streaming hot standby of the primary at <paramref name="primaryConnectionString"/> (the
    /// admin's login), unless it already is one of that very primary and its slot still holds what it has not received:
    /// a copy by <c>pg_basebackup</c> that streams from <see cref="ReplicationSlot"/>. A primary created afresh (another
    /// system identifier) or a slot given up gets a fresh copy.
    /// </summary>
    public async Task CloneFromAsync(string primaryConnectionString, CancellationToken cancellationToken)
    {
        _binaries.ThrowIfAnyMissing();
        var folder = Path.GetFullPath(Path.Combine(DataDirectory, ".."));
        var marker = Path.Combine(folder, "primary-system-identifier");
        await using var primary = new NpgsqlConnection(primaryConnectionString + ";Database=postgres;Pooling=false");
        await primary.OpenAsync(cancellationToken).ConfigureAwait(false);
        var systemIdentifier = (string)(await ScalarAsync(primary, "SELECT system_identifier::text FROM pg_control_system()", cancellationToken).ConfigureAwait(false))!;
        var slotState = await ScalarAsync(primary, "SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1", cancellationToken, ReplicationSlot).ConfigureAwait(false) as string;
        if (File.Exists(Path.Combine(DataDirectory, "standby.signal")) && slotState is not (null or "lost")
            && File.Exists(marker) && await File.ReadAllTextAsync(marker, cancellationToken).ConfigureAwait(false) == systemIdentifier)
        {
            return;
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }

        Directory.CreateDirectory(SocketDirectory);
        await ScalarAsync(primary, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", cancellationToken, ReplicationSlot).ConfigureAwait(false);
        await ScalarAsync(primary, "SELECT pg_create_physical_replication_slot($1, true)", cancellationToken, ReplicationSlot).ConfigureAwait(false);

        // -R writes standby.signal and the primary's address (with the password) into postgresql.auto.conf, inside the
        // state folder, which is its owner's alone.
        var source = new NpgsqlConnectionStringBuilder(primaryConnectionString);
        var basebackup = _binaries.Find("pg_basebackup", "postgresql");
        string[] arguments = ["-D", DataDirectory, "-d", $"host={source.Host} port={source.Port} user={source.Username} password={source.Password}",
            "-S", ReplicationSlot, "-R", "-X", "stream", "-c", "fast", "--no-password"];
        if (RunsAsServiceUser)
        {
            await RunAsync("chown", ["-R", $"{ServiceUser}:{ServiceUser}", folder], cancellationToken).ConfigureAwait(false);
            await RunAsync("setpriv", [$"--reuid={ServiceUser}", $"--regid={ServiceUser}", "--init-groups", basebackup, .. arguments], cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await RunAsync(basebackup, arguments, cancellationToken).ConfigureAwait(false);
        }

        await File.WriteAllTextAsync(marker, systemIdentifier, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the cluster on first start, with SCRAM authentication and the generated password.</summary>
    public async Task InitialiseAsync(string password, CancellationToken cancellationToken)
    {
        _binaries.ThrowIfAnyMissing();
        Directory.CreateDirectory(DataDirectory);
        Directory.CreateDirectory(SocketDirectory);
        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            return;
        }

        var passwordFile = Path.Combine(SocketDirectory, "initial-password");
        StateFolder.WriteOwnerOnly(passwordFile, password);
        try
        {
            if (RunsAsServiceUser)
            {
                await RunAsync("chown", ["-R", $"{ServiceUser}:{ServiceUser}", Path.GetFullPath(Path.Combine(DataDirectory, ".."))], cancellationToken).ConfigureAwait(false);
            }

            var initdb = _binaries.Find("initdb", "postgresql");
            string[] arguments = ["-D", DataDirectory, "-U", ServiceUser, $"--pwfile={passwordFile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"];
            await (RunsAsServiceUser
                ? RunAsync("setpriv", [$"--reuid={ServiceUser}", $"--regid={ServiceUser}", "--init-groups", initdb, .. arguments], cancellationToken)
                : RunAsync(initdb, arguments, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>
    /// Creates the databases the server lacks. Ready means the health probe got in once; a server still finishing its
    /// start-up (or a busy machine) can refuse the next connection, so this tries for a while before giving up.
    /// </summary>
    public static async Task CreateDatabasesAsync(string connectionString, IEnumerable<string> databases, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await CreateMissingAsync(connectionString, databases, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (NpgsqlException) when (attempt < 20 && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task CreateMissingAsync(string connectionString, IEnumerable<string> databases, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Database=postgres;Pooling=false");
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var database in databases)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
            exists.Parameters.AddWithValue(database);
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                // Identifiers cannot be parameters; the names are the model's own.
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The cluster's folder inside the state folder, unless the server runs as the service user, who cannot enter the
    /// state folder (it is its owner's alone): then the folder <see cref="StateFolder.ServiceUserFolder"/> keeps for it.
    /// </summary>
    private static string PickDataDirectory(StateFolder state, string name) =>
        RunsAsServiceUser ? Path.Combine(state.ServiceUserFolder, name, "data") : Path.Combine(state.For(name), "data");

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {process.ExitCode}: {await output.ConfigureAwait(false)}{await error.ConfigureAwait(false)}");
        }
    }
}
