using System.Globalization;
using TicketSale.AppHost.Hosting.Processes;

namespace TicketSale.AppHost.Hosting.Resources;

/// <summary>
/// A .NET service of this solution, run from its build output, one process per replica. It learns everything about
/// its environment through Aspire's conventions: <c>ConnectionStrings__*</c>, <c>services__*</c> and <c>OTEL_*</c>.
/// </summary>
public sealed class ProjectResource(string name, string projectDirectory) : ProcessResource(name)
{
    private readonly List<int> _ports = [];

    public string ProjectDirectory { get; } = projectDirectory;

    internal int? PreferredPort { get; set; }

    /// <summary>The path whose 200 means ready.</summary>
    internal string HealthPath { get; set; } = "/health";

    /// <summary>The environment variable that names the project's data folder under the state folder, if it keeps data.</summary>
    internal string? DataDirectoryVariable { get; set; }

    /// <summary>Extra environment: literal strings, or parameters resolved at start.</summary>
    internal Dictionary<string, object> Environment { get; } = [];

    public IReadOnlyList<Uri> HttpEndpoints => _ports.Select(p => new Uri($"http://127.0.0.1:{p}")).ToList();

    internal override IEnumerable<Prerequisite> Prerequisites => [new("dotnet", "dotnet-sdk-10.0")];

    internal override void Allocate(RunContext context)
    {
        _ports.Clear();
        for (var i = 0; i < Replicas; i++)
        {
            _ports.Add(context.AllocatePort(i == 0 ? PreferredPort : null));
        }
    }

    internal override ProcessSpec CreateProcessSpec(RunContext context, int replica)
    {
        var assembly = Path.Combine(ProjectDirectory, "bin", context.Options.BuildConfiguration, "net10.0", Path.GetFileName(ProjectDirectory) + ".dll");
        if (!File.Exists(assembly))
        {
            throw new ResourceStartupException(Name, "has not been built", [$"{assembly} is missing: run 'dotnet build' first."]);
        }

        var env = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = HttpEndpoints[replica].ToString().TrimEnd('/'),
            ["ASPNETCORE_ENVIRONMENT"] = context.Options.EnvironmentName,
            ["DOTNET_ENVIRONMENT"] = context.Options.EnvironmentName,
            ["OTEL_SERVICE_NAME"] = Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={ReplicaName(replica)}",
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            ["DOTNET_NOLOGO"] = "1",
        };
        if (System.Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 } otlp)
        {
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp;
        }

        foreach (var reference in References)
        {
            switch (reference)
            {
                case IResourceWithConnectionString withConnectionString:
                    env[$"ConnectionStrings__{withConnectionString.Name}"] = withConnectionString.GetConnectionString();
                    break;
                case ProjectResource project:
                    for (var i = 0; i < project.HttpEndpoints.Count; i++)
                    {
                        env[$"services__{project.Name}__http__{i.ToString(CultureInfo.InvariantCulture)}"] = project.HttpEndpoints[i].ToString().TrimEnd('/');
                    }

                    break;
            }
        }

        if (DataDirectoryVariable is { } dataVariable)
        {
            env[dataVariable] = context.ResourceDirectory(Name);
        }

        foreach (var (key, value) in Environment)
        {
            env[key] = value is ParameterResource parameter ? parameter.Value! : (string)value;
        }

        return new ProcessSpec("dotnet", [assembly]) { WorkingDirectory = ProjectDirectory, Environment = env };
    }

    internal override Task<bool> ProbeAsync(RunContext context, int replica, CancellationToken cancellationToken) =>
        Probes.HttpOkAsync(context.ProbeClient, new Uri(HttpEndpoints[replica], HealthPath), cancellationToken);

    internal override string DescribeEndpoint(int replica) => HttpEndpoints[replica].ToString();
}

/// <summary>Any command, for tools and tests; healthy once its HTTP health path answers, or once it has started.</summary>
public sealed class ExecutableResource(string name, string command, IReadOnlyList<string> arguments) : ProcessResource(name)
{
    internal string? PortEnvironmentVariable { get; set; }

    internal string? HealthPath { get; set; }

    public int? Port { get; private set; }

    internal override void Allocate(RunContext context) => Port = PortEnvironmentVariable is null ? null : context.AllocatePort();

    internal override ProcessSpec CreateProcessSpec(RunContext context, int replica) =>
        new(command, arguments)
        {
            Environment = PortEnvironmentVariable is null
                ? new Dictionary<string, string>()
                : new Dictionary<string, string> { [PortEnvironmentVariable] = Port!.Value.ToString(CultureInfo.InvariantCulture) },
            StopGracePeriod = TimeSpan.FromSeconds(5),
        };

    internal override Task<bool> ProbeAsync(RunContext context, int replica, CancellationToken cancellationToken) =>
        HealthPath is null || Port is null
            ? Task.FromResult(true)
            : Probes.HttpOkAsync(context.ProbeClient, new Uri($"http://127.0.0.1:{Port}{HealthPath}"), cancellationToken);

    internal override string DescribeEndpoint(int replica) => Port is null ? "" : $"http://127.0.0.1:{Port}";
}
