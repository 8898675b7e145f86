using System.Globalization;
using Npgsql;
using TicketSale.AppHost.Hosting.Processes;

namespace TicketSale.AppHost.Hosting.Resources;

/// <summary>
/// A PostgreSQL cluster from the machine's own server binaries, initialised on first start with a generated
/// password and SCRAM authentication, run as the unprivileged <c>postgres</c> user when the orchestrator is root.
/// </summary>
public sealed class PostgresServerResource(string name) : ProcessResource(name)
{
    private const string ServiceUser = "postgres";

    internal List<PostgresDatabaseResource> Databases { get; } = [];

    public int Port { get; private set; }

    internal string Password { get; private set; } = "";

    internal string DataDirectory { get; private set; } = "";

    internal override IEnumerable<Prerequisite> Prerequisites => [new("postgres", "postgresql"), new("initdb", "postgresql")];

    internal string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username={ServiceUser};Password={Password};Database={database}";

    internal override void Allocate(RunContext context)
    {
        Port = context.AllocatePort();
        Password = context.Secret($"{Name}-password");
        DataDirectory = PickDataDirectory(context);
    }

    internal override async Task PrepareAsync(RunContext context, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(DataDirectory);
        Directory.CreateDirectory(SocketDirectory);
        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            return;
        }

        var passwordFile = Path.Combine(SocketDirectory, "initial-password");
        await File.WriteAllTextAsync(passwordFile, Password, cancellationToken).ConfigureAwait(false);
        try
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await ChownToServiceUserAsync(cancellationToken).ConfigureAwait(false);
            await RunToCompletionAsync(context.Executables.Find("initdb"), asServiceUser: RunsAsServiceUser,
                ["-D", DataDirectory, "-U", ServiceUser, $"--pwfile={passwordFile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"],
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    internal override ProcessSpec CreateProcessSpec(RunContext context, int replica) =>
        new(context.Executables.Find("postgres"),
        [
            "-D", DataDirectory,
            "-c", "listen_addresses=127.0.0.1",
            "-c", $"port={Port.ToString(CultureInfo.InvariantCulture)}",
            "-c", $"unix_socket_directories={SocketDirectory}",
            "-c", "max_connections=300",
            "-c", "shared_buffers=256MB",
        ])
        {
            RunAsUser = RunsAsServiceUser ? ServiceUser : null,
            // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions and stop, without waiting for clients.
            StopSignal = "INT",
            StopGracePeriod = TimeSpan.FromSeconds(15),
        };

    internal override async Task<bool> ProbeAsync(RunContext context, int replica, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false;Timeout=3");
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    internal override async Task OnHealthyAsync(RunContext context, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var database in Databases)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
            exists.Parameters.AddWithValue(database.DatabaseName);
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                // Identifiers cannot be parameters; the name is validated when the model is declared.
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.DatabaseName}\"", connection);
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    internal override string DescribeEndpoint(int replica) => $"postgresql://127.0.0.1:{Port}";

    private string SocketDirectory => Path.Combine(DataDirectory, "..", "run");

    private static bool RunsAsServiceUser => Environment.UserName == "root";

    /// <summary>
    /// The cluster's folder inside the state folder, unless the service user cannot reach it there (a checkout under
    /// a private home folder): then a folder of its own under /var/tmp, keyed by the state folder.
    /// </summary>
    private string PickDataDirectory(RunContext context)
    {
        var preferred = Path.Combine(context.ResourceDirectory(Name), "data");
        if (!RunsAsServiceUser || ServiceUserCanTraverse(context.StateDirectory))
        {
            return preferred;
        }

        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(context.StateDirectory)))[..12];
        return Path.Combine("/var/tmp", $"ticketsale-{key}", Name, "data");
    }

    private static bool ServiceUserCanTraverse(string path)
    {
        for (var dir = new DirectoryInfo(path); dir is not null; dir = dir.Parent)
        {
            if (dir.Exists && (dir.UnixFileMode & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private async Task ChownToServiceUserAsync(CancellationToken cancellationToken)
    {
        if (RunsAsServiceUser)
        {
            var root = Path.GetFullPath(Path.Combine(DataDirectory, ".."));
            await RunToCompletionAsync("chown", asServiceUser: false, ["-R", $"{ServiceUser}:{ServiceUser}", root], cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task RunToCompletionAsync(string file, bool asServiceUser, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new System.Diagnostics.ProcessStartInfo(asServiceUser ? "setpriv" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asServiceUser)
        {
            foreach (var a in new[] { $"--reuid={ServiceUser}", $"--regid={ServiceUser}", "--init-groups", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            var lines = (await output.ConfigureAwait(false) + await error.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            throw new ResourceStartupException("postgres", $"could not run {Path.GetFileName(file)} (exit {process.ExitCode})", lines.TakeLast(20).ToList());
        }
    }
}

/// <summary>A database inside a PostgreSQL cluster, created when the cluster first becomes healthy.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource server)
    : Resource(name), IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public PostgresServerResource Server { get; } = server;

    internal override IEnumerable<Resource> Dependencies => [Server];

    public string GetConnectionString() => Server.ConnectionString(DatabaseName);
}
