using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using TicketSale.AppHost.Hosting.Processes;

namespace TicketSale.AppHost.Hosting.Resources;

/// <summary>
/// A RabbitMQ node from the machine's <c>rabbitmq-server</c>, with a generated user (guest is refused), its own
/// Erlang port mapper daemon and, on request, the management UI.
/// </summary>
public sealed class RabbitMQServerResource : ProcessResource, IResourceWithConnectionString
{
    public RabbitMQServerResource(string name) : base(name)
    {
        Epmd = new EpmdResource($"{name}-epmd");
        WaitsFor.Add(Epmd);
        StartupTimeout = TimeSpan.FromSeconds(90);
    }

    /// <summary>
    /// The broker's start script would otherwise spawn a shared epmd daemon that outlives it; owning one per broker
    /// keeps every process accounted for.
    /// </summary>
    internal EpmdResource Epmd { get; }

    public int Port { get; private set; }

    public int ManagementPort { get; private set; }

    internal bool ManagementEnabled { get; set; }

    internal static string UserName => "ticketsale";

    internal string Password { get; private set; } = "";

    private int _distributionPort;

    internal override IEnumerable<Prerequisite> Prerequisites => [new("rabbitmq-server", "rabbitmq-server")];

    public string GetConnectionString() => $"amqp://{UserName}:{Password}@127.0.0.1:{Port}/";

    internal Uri ManagementUri => new($"http://127.0.0.1:{ManagementPort}/");

    internal override void Allocate(RunContext context)
    {
        Port = context.AllocatePort();
        ManagementPort = context.AllocatePort();
        _distributionPort = context.AllocatePort();
        Password = context.Secret($"{Name}-password");
    }

    internal override async Task PrepareAsync(RunContext context, CancellationToken cancellationToken)
    {
        var folder = context.ResourceDirectory(Name);
        Directory.CreateDirectory(Path.Combine(folder, "home"));
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"listeners.tcp.default = 127.0.0.1:{Port}")
            .AppendLine(CultureInfo.InvariantCulture, $"default_user = {UserName}")
            .AppendLine(CultureInfo.InvariantCulture, $"default_pass = {Password}")
            .AppendLine("default_permissions.configure = .*")
            .AppendLine("default_permissions.read = .*")
            .AppendLine("default_permissions.write = .*")
            .AppendLine("loopback_users = none")
            .AppendLine(CultureInfo.InvariantCulture, $"management.tcp.port = {ManagementPort}")
            .AppendLine("management.tcp.ip = 127.0.0.1")
            .AppendLine("log.console = true")
            .AppendLine("log.console.level = warning")
            .AppendLine("log.file = false")
            .ToString();
        var configPath = Path.Combine(folder, "rabbitmq.conf");
        await File.WriteAllTextAsync(configPath, config, cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(configPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(Path.Combine(folder, "enabled_plugins"),
            ManagementEnabled ? "[rabbitmq_management]." : "[].", cancellationToken).ConfigureAwait(false);
    }

    internal override ProcessSpec CreateProcessSpec(RunContext context, int replica)
    {
        var folder = context.ResourceDirectory(Name);
        // A stable node name per state folder: the node's database folder is named after it.
        var node = "ticketsale-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(folder)))[..8].ToLowerInvariant();
        return new ProcessSpec(context.Executables.Find("rabbitmq-server"), [])
        {
            Environment = new Dictionary<string, string>
            {
                ["HOME"] = Path.Combine(folder, "home"),
                ["ERL_EPMD_PORT"] = Epmd.Port.ToString(CultureInfo.InvariantCulture),
                ["RABBITMQ_NODENAME"] = $"{node}@localhost",
                ["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture),
                ["RABBITMQ_DIST_PORT"] = _distributionPort.ToString(CultureInfo.InvariantCulture),
                ["RABBITMQ_CONFIG_FILE"] = Path.Combine(folder, "rabbitmq.conf"),
                ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(folder, "enabled_plugins"),
                ["RABBITMQ_MNESIA_BASE"] = Path.Combine(folder, "mnesia"),
                ["RABBITMQ_LOG_BASE"] = Path.Combine(folder, "log"),
                ["RABBITMQ_PLUGINS_EXPAND_DIR"] = Path.Combine(folder, "plugins-expand"),
            },
            StopGracePeriod = TimeSpan.FromSeconds(20),
        };
    }

    internal override async Task<bool> ProbeAsync(RunContext context, int replica, CancellationToken cancellationToken)
    {
        if (!await Probes.TcpAsync(Port, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        if (!ManagementEnabled)
        {
            return true;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ManagementUri, "api/health/checks/alarms"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{UserName}:{Password}")));
        try
        {
            using var response = await context.ProbeClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    internal override string DescribeEndpoint(int replica) =>
        ManagementEnabled ? $"amqp://127.0.0.1:{Port}  ui: {ManagementUri}" : $"amqp://127.0.0.1:{Port}";
}

/// <summary>The Erlang port mapper daemon that one RabbitMQ node registers with.</summary>
internal sealed class EpmdResource(string name) : ProcessResource(name)
{
    public int Port { get; private set; }

    internal override bool IsHidden => true;

    internal override IEnumerable<Prerequisite> Prerequisites => [new("epmd", "rabbitmq-server")];

    internal override void Allocate(RunContext context) => Port = context.AllocatePort();

    internal override ProcessSpec CreateProcessSpec(RunContext context, int replica) =>
        new(context.Executables.Find("epmd"), ["-port", Port.ToString(CultureInfo.InvariantCulture), "-address", "127.0.0.1"]);

    internal override Task<bool> ProbeAsync(RunContext context, int replica, CancellationToken cancellationToken) =>
        Probes.TcpAsync(Port, cancellationToken);

    internal override string DescribeEndpoint(int replica) => $"tcp://127.0.0.1:{Port}";
}
