using System.Collections.Concurrent;
using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TicketSale.AppHost.Supervision;

namespace TicketSale.Testing;

/// <summary>
/// The whole application from the AppHost's Program.cs, started through Aspire's test host in a temporary state folder,
/// with the handles tests and the bench need: connection strings, each replica's own address, and chaos controls —
/// stop, start and restart through Aspire's resource commands, SIGKILL through the process ids Aspire reports.
/// </summary>
public sealed class TicketSaleApp : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ResourceEvent> _instances = new();
    private readonly Dictionary<string, string> _connectionStrings = [];
    private readonly Dictionary<string, string> _parameters = [];
    private readonly CancellationTokenSource _watching = new();
    private readonly bool _discardState;
    private Task _watch = Task.CompletedTask;

    private TicketSaleApp(DistributedApplication app, string stateDirectory, bool discardState)
    {
        App = app;
        StateDirectory = stateDirectory;
        _discardState = discardState;
    }

    public DistributedApplication App { get; }

    /// <summary>
    /// The dashboard's sign-in address, with the browser token the test host gave it (on ports of the test host's
    /// choosing), when the application runs with its dashboard.
    /// </summary>
    public Uri DashboardLoginUrl =>
        _instances.Values.Where(e => e.Resource.Name == "aspire-dashboard").SelectMany(e => e.Snapshot.Urls).FirstOrDefault(u => u.Name == "http") is { } url
            ? new Uri(url.Url)
            : throw new InvalidOperationException("The application runs without its dashboard.");

    /// <summary>Tests run without Aspire's dashboard unless TICKETSALE_TEST_DASHBOARD=1 (to watch a test run).</summary>
    private static readonly string[] s_dashboardTelemetrySettings =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_METRICS_EXEMPLAR_FILTER", "OTEL_TRACES_SAMPLER", "OTEL_METRIC_EXPORT_INTERVAL",
        "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BLRP_SCHEDULE_DELAY",
    ];

    private static bool WithDashboard => Environment.GetEnvironmentVariable("TICKETSALE_TEST_DASHBOARD") == "1";

    public string StateDirectory { get; }

    public TimeSpan StartupTime { get; private set; }

    /// <summary>
    /// Declares the model from Program.cs in a fresh temporary state folder (kept after the run with
    /// TICKETSALE_KEEP_TEST_STATE=1), lets <paramref name="configure"/> change it, starts it and waits until every
    /// resource is healthy.
    /// </summary>
    public static async Task<TicketSaleApp> StartAsync(Action<IDistributedApplicationTestingBuilder>? configure = null,
        string? environment = null, string? stateDirectory = null, bool fresh = true, string? binariesPath = null,
        bool dashboard = false, IReadOnlyList<string>? settings = null, CancellationToken cancellationToken = default)
    {
        var state = stateDirectory ?? Path.Combine(Path.GetTempPath(), "ticketsale-test-" + Guid.NewGuid().ToString("N")[..12]);
        List<string> args = ["--state-dir", state, .. (settings ?? []).Select(s => "--" + s)];
        if (fresh)
        {
            args.Add("--fresh");
        }

        if (binariesPath is not null)
        {
            args.Add($"--TicketSale:BinariesPath={binariesPath}");
        }

        if (environment is not null)
        {
            args.Add($"--environment={environment}");
        }

        dashboard |= WithDashboard;

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.TicketSale_AppHost>([.. args],
            (options, _) => options.DisableDashboard = !dashboard, cancellationToken);
        if (!dashboard)
        {
            // No dashboard to receive the services' telemetry: without an endpoint they export none (a service
            // exporting to nobody spends its 8-second shutdown budget trying to flush), and the settings Aspire adds
            // for its dashboard (exemplars on every histogram, always-on sampling, 1-s exports) go with it, so the
            // services run with production's telemetry. A test may set its own.
            foreach (var project in builder.Resources.OfType<ProjectResource>())
            {
                builder.CreateResourceBuilder(project).WithEnvironment(context =>
                {
                    foreach (var name in s_dashboardTelemetrySettings)
                    {
                        context.EnvironmentVariables.Remove(name);
                    }
                });
            }
        }

        // The resources' console output is kept in logs/ of the state folder (TICKETSALE_KEEP_TEST_STATE=1 keeps it);
        // a test's own output gets the warnings.
        builder.Services.AddLogging(logging => logging.AddFilter((_, level) => level >= LogLevel.Warning));
        configure?.Invoke(builder);
        var app = await builder.BuildAsync(cancellationToken);
        var started = new TicketSaleApp(app, state, stateDirectory is null && Environment.GetEnvironmentVariable("TICKETSALE_KEEP_TEST_STATE") != "1");
        try
        {
            await started.StartAsync(cancellationToken);
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }

        return started;
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        _watch = WatchAsync(_watching.Token);
        await App.StartAsync(cancellationToken);
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        // Every resource that starts with the application (not the dashboard's project rebuilders, started on request).
        await StartupResources.WaitUntilReadyAsync(model, App.ResourceNotifications, cancellationToken);
        StartupTime = clock.Elapsed;
        foreach (var resource in model.Resources.OfType<IResourceWithConnectionString>())
        {
            _connectionStrings[resource.Name] = await resource.ConnectionStringExpression.GetValueAsync(cancellationToken) ?? "";
        }

        foreach (var parameter in model.Resources.OfType<ParameterResource>())
        {
            _parameters[parameter.Name] = await parameter.GetValueAsync(cancellationToken) ?? "";
        }
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var update in App.ResourceNotifications.WatchAsync(cancellationToken))
            {
                _instances[update.ResourceId] = update;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public string GetConnectionString(string resource) => _connectionStrings.TryGetValue(resource, out var value)
        ? value
        : throw new ArgumentException($"Resource '{resource}' has no connection string.", nameof(resource));

    public string GetParameterValue(string parameter) => _parameters.TryGetValue(parameter, out var value)
        ? value
        : throw new ArgumentException($"No parameter '{parameter}'.", nameof(parameter));

    /// <summary>A replica's <c>service.instance.id</c>: the suffix Aspire gives the replica's resource id.</summary>
    public string GetInstanceId(string resource, int replica = 0) => Instances(resource)[replica][(resource.Length + 1)..];

    /// <summary>How many replicas (processes) a resource has.</summary>
    public int ReplicaCount(string resource) => Instances(resource).Count;

    /// <summary>
    /// The HTTP address of one replica itself, not the proxy Aspire puts in front of replicas: chaos tests pick the
    /// replica they break and the one they ask.
    /// </summary>
    public Uri GetEndpoint(string resource, int replica = 0)
    {
        var snapshot = Instance(resource, replica).Snapshot;
        if (Snapshots.ListenAddress(snapshot) is { } address)
        {
            return new Uri(address.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        }

        var withEndpoints = (IResourceWithEndpoints)Resource(resource);
        var endpoint = withEndpoints.GetEndpoints().FirstOrDefault(e => e.EndpointName is "http" or "management")
            ?? throw new ArgumentException($"Resource '{resource}' has no HTTP endpoint.", nameof(resource));
        return new Uri(endpoint.Url.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
    }

    public HttpClient CreateHttpClient(string resource, int replica = 0) => new() { BaseAddress = GetEndpoint(resource, replica) };

    /// <summary>A client bearing the management key: metrics, the detailed readiness report, <c>/internal</c> routes.</summary>
    public HttpClient CreateOperatorClient(string resource, int replica = 0)
    {
        var http = CreateHttpClient(resource, replica);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GetParameterValue("management-key"));
        return http;
    }

    /// <summary>The process id Aspire reports for a replica (for a project, its <c>dotnet run</c>).</summary>
    public int? GetProcessId(string resource, int replica = 0) =>
        Snapshots.ProcessId(Instance(resource, replica).Snapshot);

    /// <summary>
    /// The service's own process: the one Aspire reports, or for a project its child (Aspire runs a project through
    /// <c>dotnet run</c>, which starts it as a child process).
    /// </summary>
    public int? GetServiceProcessId(string resource, int replica = 0)
    {
        if (GetProcessId(resource, replica) is not { } pid)
        {
            return null;
        }

        return Resource(resource) is ProjectResource ? ProcessTree.DescendantsOf([pid]).Where(p => p != pid).DefaultIfEmpty(pid).Min() : pid;
    }

    /// <summary>The environment a service's process was started with, as the kernel keeps it: what the service was given.</summary>
    public IReadOnlyDictionary<string, string> GetServiceEnvironment(string resource, int replica = 0)
    {
        var pid = GetServiceProcessId(resource, replica) ?? throw new InvalidOperationException($"{resource} {replica} is not running.");
        return File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(v => v.Split('=', 2)).Where(v => v.Length == 2)
            .GroupBy(v => v[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
    }

    /// <summary>Whether a replica is running and its health checks pass.</summary>
    public bool IsHealthy(string resource, int replica = 0) =>
        Instance(resource, replica).Snapshot is { } s && s.State?.Text == KnownResourceStates.Running
        && s.HealthStatus is null or Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy;

    /// <summary>The process ids of every process the application runs now, and of the processes those started.</summary>
    public IReadOnlyList<int> GetProcessIds() =>
        _instances.Values.Where(e => e.Snapshot.State?.Text == KnownResourceStates.Running)
            .Select(e => Snapshots.ProcessId(e.Snapshot)).OfType<int>().ToList();

    public string GetState(string resource, int replica = 0) => Instance(resource, replica).Snapshot.State?.Text ?? "";

    public int GetRestartCount(string resource, int replica = 0) =>
        App.Services.GetRequiredService<RestartOnFailure>().RestartCount(Instances(resource)[replica]);

    /// <summary>
    /// SIGKILLs one replica's processes — the one Aspire reports and every process it started — as a crash would, and
    /// waits until they are gone. Like any crash, the AppHost then restarts it after its backoff.
    /// </summary>
    public async Task KillResourceAsync(string resource, int replica = 0)
    {
        var pid = GetProcessId(resource, replica) ?? throw new InvalidOperationException($"{resource} replica {replica} is not running.");
        var tree = ProcessTree.DescendantsOf([pid]);
        foreach (var process in tree)
        {
            ProcessTree.Kill(process);
        }

        var alive = await ProcessTree.WaitUntilAllGoneAsync(tree, TimeSpan.FromSeconds(10));
        if (alive.Count > 0)
        {
            throw new InvalidOperationException($"Still running after SIGKILL: {ProcessTree.Describe(alive)}");
        }
    }

    /// <summary>Stops one replica through Aspire's stop command and waits until it has exited.</summary>
    public async Task StopResourceAsync(string resource, int replica = 0, CancellationToken cancellationToken = default)
    {
        var id = Instances(resource)[replica];
        var result = await App.ResourceCommands.ExecuteCommandAsync(id, KnownResourceCommands.StopCommand, cancellationToken);
        if (!result.Success)
        {
            throw new InvalidOperationException($"Could not stop {id}: {result.Message}");
        }

        await App.ResourceNotifications.WaitForResourceAsync(resource,
            e => e.ResourceId == id && KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken);
    }

    /// <summary>
    /// Starts a stopped or crashed replica through Aspire's start command (on the same port and data) and waits until
    /// it is healthy; one already started again (a crash's restart) is only waited for.
    /// </summary>
    public async Task StartResourceAsync(string resource, int replica = 0, CancellationToken cancellationToken = default)
    {
        var id = Instances(resource)[replica];
        DateTime? since = null;
        if (KnownResourceStates.TerminalStates.Contains(_instances[id].Snapshot.State?.Text))
        {
            since = DateTime.UtcNow;
            var result = await App.ResourceCommands.ExecuteCommandAsync(id, KnownResourceCommands.StartCommand, cancellationToken);
            if (!result.Success && KnownResourceStates.TerminalStates.Contains(_instances[id].Snapshot.State?.Text))
            {
                throw new InvalidOperationException($"Could not start {id}: {result.Message}");
            }
        }

        await WaitHealthyAsync(resource, replica, since, cancellationToken);
    }

    public async Task RestartResourceAsync(string resource, int replica = 0, CancellationToken cancellationToken = default)
    {
        await StopResourceAsync(resource, replica, cancellationToken);
        await StartResourceAsync(resource, replica, cancellationToken);
    }

    /// <summary>
    /// Waits until one replica is running (started after <paramref name="since"/>, when given) and answers: a service
    /// on its own <c>/health</c>, a server through a health check run after it started.
    /// </summary>
    public async Task WaitHealthyAsync(string resource, int replica = 0, DateTime? since = null, CancellationToken cancellationToken = default)
    {
        var id = Instances(resource)[replica];
        var running = await App.ResourceNotifications.WaitForResourceAsync(resource,
            e => e.ResourceId == id && e.Snapshot.State?.Text == KnownResourceStates.Running
                && (since is null || e.Snapshot.StartTimeStamp >= since.Value.AddSeconds(-1)), cancellationToken);
        if (Resource(resource) is ProjectResource)
        {
            using var http = new HttpClient { BaseAddress = GetEndpoint(resource, replica), Timeout = TimeSpan.FromSeconds(5) };
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync(new Uri("/health", UriKind.Relative), cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }

                await Task.Delay(200, cancellationToken);
            }
        }

        var started = running.Snapshot.StartTimeStamp ?? DateTime.MinValue;
        await App.ResourceNotifications.WaitForResourceAsync(resource,
            e => e.ResourceId == id && e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthReports.Length > 0
                && e.Snapshot.HealthReports.All(h => h.Status == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy && h.LastRunAt >= started),
            cancellationToken);
    }

    /// <summary>Waits until every replica of every resource is running and healthy (after crashes, once restarted).</summary>
    public async Task WaitForAllRunningAsync(CancellationToken cancellationToken = default)
    {
        var completed = StartupResources.RunToCompletion(App.Services.GetRequiredService<DistributedApplicationModel>());
        foreach (var resource in _instances.Values.Select(e => e.Resource)
            .Where(r => r is ProjectResource or ExecutableResource && !r.HasAnnotationOfType<ExplicitStartupAnnotation>() && !completed.Contains(r)).Distinct().ToList())
        {
            for (var replica = 0; replica < ReplicaCount(resource.Name); replica++)
            {
                await WaitHealthyAsync(resource.Name, replica, cancellationToken: cancellationToken);
            }
        }
    }

    public IResource Resource(string name) =>
        App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);

    public async ValueTask DisposeAsync()
    {
        await _watching.CancelAsync();
        try
        {
            await App.StopAsync();
        }
        finally
        {
            await App.DisposeAsync();
            await _watch;
            _watching.Dispose();
            if (_discardState)
            {
                TicketSale.AppHost.LocalServers.StateFolder.Discard(StateDirectory);
            }
        }
    }

    /// <summary>A resource's replicas (Aspire's resource ids), in a stable order.</summary>
    private List<string> Instances(string resource) =>
        _instances.Values.Where(e => e.Resource.Name == resource).Select(e => e.ResourceId).Order(StringComparer.Ordinal).ToList();

    private ResourceEvent Instance(string resource, int replica)
    {
        var instances = Instances(resource);
        return replica < instances.Count
            ? _instances[instances[replica]]
            : throw new ArgumentException($"Resource '{resource}' has no replica {replica}.", nameof(replica));
    }
}
