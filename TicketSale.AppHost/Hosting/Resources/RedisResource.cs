using System.Globalization;
using TicketSale.AppHost.Hosting.Processes;

namespace TicketSale.AppHost.Hosting.Resources;

/// <summary>A Redis server from the machine's <c>redis-server</c>, password-protected, with an append-only file.</summary>
public sealed class RedisResource(string name) : ProcessResource(name), IResourceWithConnectionString
{
    public int Port { get; private set; }

    internal string Password { get; private set; } = "";

    internal override IEnumerable<Prerequisite> Prerequisites => [new("redis-server", "redis-server")];

    public string GetConnectionString() => $"127.0.0.1:{Port},password={Password}";

    internal override void Allocate(RunContext context)
    {
        Port = context.AllocatePort();
        Password = context.Secret($"{Name}-password");
    }

    internal override async Task PrepareAsync(RunContext context, CancellationToken cancellationToken)
    {
        var folder = context.ResourceDirectory(Name);
        var config = string.Join('\n',
            "bind 127.0.0.1",
            $"port {Port.ToString(CultureInfo.InvariantCulture)}",
            "protected-mode yes",
            "daemonize no",
            $"requirepass {Password}",
            $"dir {folder}",
            "logfile \"\"",
            // Holds and stock live here between snapshots of the truth in PostgreSQL: keep them across restarts.
            "appendonly yes",
            "appendfsync everysec",
            // A rewrite forks and dumps the whole dataset; at the default 64 MB threshold a sale's stream of holds set
            // one off every few seconds, each taking a core from the sale. A rewrite waits for a gigabyte of log.
            "auto-aof-rewrite-min-size 1gb",
            "save \"\"",
            "");
        var path = Path.Combine(folder, "redis.conf");
        await File.WriteAllTextAsync(path, config, cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    internal override ProcessSpec CreateProcessSpec(RunContext context, int replica) =>
        new(context.Executables.Find("redis-server"), [Path.Combine(context.ResourceDirectory(Name), "redis.conf")]);

    internal override async Task<bool> ProbeAsync(RunContext context, int replica, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await Probes.RedisAsync(Port, $"AUTH {Password}\r\nPING\r\n", cancellationToken).ConfigureAwait(false);
            return reply.Contains("+PONG", StringComparison.Ordinal);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    internal override string DescribeEndpoint(int replica) => $"redis://127.0.0.1:{Port}";
}
