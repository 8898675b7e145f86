using System.Diagnostics;
using System.Runtime.InteropServices;
using TicketSale.AppHost.Hosting.Processes;
using TicketSale.AppHost.Hosting.Resources;
using TicketSale.AppHost.Hosting.Testing;

namespace TicketSale.AppHost.Hosting;

/// <summary>
/// Runs the declared resources as local processes: in dependency order, each only once what it waits for is healthy;
/// restarts a process that exits unexpectedly, with backoff, as a Kubernetes restart policy would; stops them in
/// reverse order; and gives tests a handle on each one (clients, connection strings, stop, kill, restart).
/// </summary>
public sealed class DistributedApplication : IAsyncDisposable
{
    private readonly IReadOnlyList<Resource> _resources;
    private readonly Dictionary<Resource, TaskCompletionSource> _healthy = [];
    private readonly List<Replica> _replicas = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _supervision = [];
    private RunContext? _context;
    private bool _started;
    private bool _showsResourceTable;

    internal DistributedApplication(DistributedApplicationOptions options, IReadOnlyList<Resource> resources)
    {
        Options = options;
        _resources = resources;
        foreach (var resource in resources)
        {
            _healthy[resource] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (resource is ProcessResource process)
            {
                for (var i = 0; i < process.Replicas; i++)
                {
                    _replicas.Add(new Replica(process, i));
                }
            }
        }
    }

    public DistributedApplicationOptions Options { get; }

    public static DistributedApplicationBuilder CreateBuilder(string[] args) => new(args);

    /// <summary>Starts everything and returns when every resource is healthy; on failure stops what it started.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("The application has already been started.");
        }

        _started = true;
        CheckPrerequisites();

        if (Options.Fresh && Directory.Exists(Options.StateDirectory))
        {
            Directory.Delete(Options.StateDirectory, recursive: true);
        }

        Directory.CreateDirectory(Options.StateDirectory);
        _context = new RunContext(Options, Options.Executables, WriteWatchdog());
        foreach (var parameter in _resources.OfType<ParameterResource>())
        {
            parameter.Resolve(_context);
        }

        foreach (var resource in _resources.OfType<ProcessResource>())
        {
            resource.Allocate(_context);
        }

        var clock = Stopwatch.StartNew();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var starts = _resources.Select(r => StartWhenReadyAsync(r, failed.Token)).ToList();
        try
        {
            while (starts.Count > 0)
            {
                var done = await Task.WhenAny(starts).ConfigureAwait(false);
                starts.Remove(done);
                await done.ConfigureAwait(false);
            }
        }
        catch
        {
            await failed.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(starts.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            await StopAsync().ConfigureAwait(false);
            throw;
        }

        StartupTime = clock.Elapsed;
        WriteManifest();
        _supervision.AddRange(_replicas.Select(r => r.SuperviseAsync(_context, OnRestarted, _stopping.Token)));
    }

    /// <summary>
    /// Where everything runs, for tools that attach to a running application (the benchmark): HTTP endpoints of
    /// every replica and the connection strings. Readable by the owner only, like secrets.json beside it.
    /// </summary>
    private void WriteManifest()
    {
        var manifest = new Dictionary<string, object>
        {
            ["endpoints"] = _resources.OfType<ProjectResource>().ToDictionary(p => p.Name, p => p.HttpEndpoints.Select(u => u.ToString()).ToList()),
            ["connectionStrings"] = _resources.OfType<IResourceWithConnectionString>().ToDictionary(r => r.Name, r => r.GetConnectionString()),
        };
        var path = Path.Combine(Options.StateDirectory, ".run", "manifest.json");
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(manifest));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>How long the last <see cref="StartAsync"/> took until every resource was healthy.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>Stops every resource, dependents before their dependencies.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var level in _resources.GroupBy(Depth).OrderByDescending(g => g.Key))
        {
            await Task.WhenAll(_replicas.Where(r => level.Contains(r.Resource)).Select(r => r.StopAsync())).ConfigureAwait(false);
        }
    }

    /// <summary>Runs until Ctrl+C or SIGTERM, then stops everything. Sets a non-zero exit code on failure.</summary>
    public void Run()
    {
        if (TestingSession.Current is not null)
        {
            // Under the test host the entry point only declares the model; the test starts it.
            return;
        }

        RunAsync().GetAwaiter().GetResult();
    }

    public async Task RunAsync()
    {
        using var shutdown = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            shutdown.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            Console.WriteLine($"Starting TicketSale (state: {Options.StateDirectory}) ...");
            await StartAsync(shutdown.Token).ConfigureAwait(false);
            Console.WriteLine(ResourceTable.Render(this, $"All resources healthy in {StartupTime.TotalSeconds:0.0} s. Ctrl+C stops everything."));
            _showsResourceTable = true;
            Console.WriteLine($"Generated credentials (parameters, passwords) are in {Path.Combine(Options.StateDirectory, "secrets.json")}.");
            await Task.Delay(Timeout.Infinite, shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is MissingPrerequisitesException or ResourceStartupException)
        {
            await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            Environment.ExitCode = 1;
        }

        Console.WriteLine("Stopping ...");
        await StopAsync().ConfigureAwait(false);
        Console.WriteLine("Stopped.");
    }

    // ---- The test host's handle on the running application -------------------------------------------------

    public Resource GetResource(string name) =>
        _resources.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"No resource named '{name}'.", nameof(name));

    public string GetConnectionString(string resource) =>
        GetResource(resource) is IResourceWithConnectionString withConnectionString
            ? withConnectionString.GetConnectionString()
            : throw new ArgumentException($"Resource '{resource}' has no connection string.", nameof(resource));

    public string GetParameterValue(string parameter) =>
        GetResource(parameter) is ParameterResource { Value: { } value } ? value : throw new ArgumentException($"No resolved parameter '{parameter}'.", nameof(parameter));

    public Uri GetEndpoint(string resource, int replica = 0) => GetResource(resource) switch
    {
        ProjectResource project => project.HttpEndpoints[replica],
        RabbitMQServerResource rabbit => rabbit.ManagementUri,
        ExecutableResource { Port: { } port } => new Uri($"http://127.0.0.1:{port}"),
        var other => throw new ArgumentException($"Resource '{other.Name}' has no HTTP endpoint.", nameof(resource)),
    };

    public HttpClient CreateHttpClient(string resource, int replica = 0) => new() { BaseAddress = GetEndpoint(resource, replica) };

    public Task WaitForResourceHealthyAsync(string resource, CancellationToken cancellationToken = default) =>
        _healthy[GetResource(resource)].Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Kills one replica's process with SIGKILL, as a crash would, and waits until it is gone. Like any crash, the
    /// replica is then restarted after its backoff.
    /// </summary>
    public async Task KillResourceAsync(string resource, int replica = 0)
    {
        var target = GetReplica(resource, replica);
        if (target.Process is { } process)
        {
            process.Kill();
            await process.Exited.ConfigureAwait(false);
        }
    }

    /// <summary>Stops one replica cleanly (its stop signal, then SIGKILL after its grace period).</summary>
    public Task StopResourceAsync(string resource, int replica = 0) => GetReplica(resource, replica).StopAsync();

    /// <summary>
    /// Starts a stopped or killed replica again, on the same port and data, and waits until it is healthy; a replica
    /// already started again (a crash's restart) is only waited for.
    /// </summary>
    public async Task StartResourceAsync(string resource, int replica = 0, CancellationToken cancellationToken = default)
    {
        await GetReplica(resource, replica).StartAsync(_context!, cancellationToken, prepare: true).ConfigureAwait(false);
    }

    public async Task RestartResourceAsync(string resource, int replica = 0, CancellationToken cancellationToken = default)
    {
        await StopResourceAsync(resource, replica).ConfigureAwait(false);
        await StartResourceAsync(resource, replica, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The process ids of every running resource process and its wrapper.</summary>
    public IReadOnlyList<int> GetProcessIds() =>
        _replicas.Where(r => r.Process is { HasExited: false })
            .SelectMany(r => new[] { r.Process!.WrapperPid, r.Process.ChildPid })
            .ToList();

    public int? GetProcessId(string resource, int replica = 0) => GetReplica(resource, replica).Process?.ChildPid;

    public IReadOnlyList<string> GetLogs(string resource, int replica = 0, int lines = 200) =>
        GetReplica(resource, replica).Log?.Tail(lines) ?? [];

    internal IEnumerable<(string Name, string State, string Endpoint, int? Pid, int Restarts)> Describe() =>
        _replicas.Where(r => !r.Resource.IsHidden)
            .Select(r => (r.Name, r.State, r.Resource.DescribeEndpoint(r.Index), r.Process?.ChildPid, r.Restarts));

    /// <summary>Waiting, Starting, Running, Restarting, Stopping, Stopped, Failed or Unhealthy.</summary>
    public string GetState(string resource, int replica = 0) => GetReplica(resource, replica).State;

    /// <summary>Waits until every replica of every resource is running and healthy (after crashes, once restarted).</summary>
    public async Task WaitForAllRunningAsync(CancellationToken cancellationToken = default)
    {
        while (_replicas.Any(r => r.State != "Running"))
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How many times a replica was restarted after exiting unexpectedly.</summary>
    public int GetRestartCount(string resource, int replica = 0) => GetReplica(resource, replica).Restarts;

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await Task.WhenAll(_supervision).ConfigureAwait(false);
        _stopping.Dispose();
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync().ConfigureAwait(false);
        }

        _context?.Dispose();
        if (Options.DiscardStateOnDispose && Directory.Exists(Options.StateDirectory))
        {
            Directory.Delete(Options.StateDirectory, recursive: true);
        }
    }

    // ---- Internals --------------------------------------------------------------------------------------------

    private Replica GetReplica(string resource, int replica) =>
        _replicas.FirstOrDefault(r => r.Resource == GetResource(resource) && r.Index == replica)
        ?? throw new ArgumentException($"Resource '{resource}' has no replica {replica}.", nameof(replica));

    private void CheckPrerequisites()
    {
        var missing = _resources.OfType<ProcessResource>()
            .SelectMany(r => r.Prerequisites)
            .Append(new Prerequisite("setsid", "util-linux"))
            .Append(new Prerequisite("bash", "bash"))
            .Concat(Environment.UserName == "root" ? [new Prerequisite("setpriv", "util-linux")] : [])
            .Distinct()
            .Where(p => Options.Executables.TryFind(p.Executable) is null)
            .ToList();
        if (missing.Count > 0)
        {
            throw new MissingPrerequisitesException(missing);
        }
    }

    private string WriteWatchdog()
    {
        var folder = Path.Combine(Options.StateDirectory, ".run");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "watchdog.sh");
        using var source = typeof(DistributedApplication).Assembly.GetManifestResourceStream("watchdog.sh")!;
        using (var target = File.Create(path))
        {
            source.CopyTo(target);
        }

        return path;
    }

    private async Task StartWhenReadyAsync(Resource resource, CancellationToken cancellationToken)
    {
        await Task.WhenAll(resource.Dependencies.Select(d => _healthy[d].Task)).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (resource is ProcessResource process)
        {
            await process.PrepareAsync(_context!, cancellationToken).ConfigureAwait(false);
            await Task.WhenAll(_replicas.Where(r => r.Resource == process).Select(r => r.StartAsync(_context!, cancellationToken))).ConfigureAwait(false);
            await process.OnHealthyAsync(_context!, cancellationToken).ConfigureAwait(false);
        }

        _healthy[resource].TrySetResult();
    }

    /// <summary>Where the console shows the resources (./run.sh), a restart shows there too, with the table's restart counts.</summary>
    private void OnRestarted(Replica replica)
    {
        if (_showsResourceTable)
        {
            Console.WriteLine(ResourceTable.Render(this, $"{replica.Name} crashed and was restarted (restart {replica.Restarts}); all resources:"));
        }
    }

    private int Depth(Resource resource) => resource.Dependencies.Select(Depth).DefaultIfEmpty(-1).Max() + 1;

    /// <summary>One process of a resource, across its starts and stops.</summary>
    private sealed class Replica(ProcessResource resource, int index) : IAsyncDisposable
    {
        private static readonly TimeSpan s_firstRestartDelay = TimeSpan.FromSeconds(2);
        private static readonly TimeSpan s_maxRestartDelay = TimeSpan.FromSeconds(30);

        /// <summary>A process that ran this long before it exited starts its backoff over.</summary>
        private static readonly TimeSpan s_stableAfter = TimeSpan.FromSeconds(30);

        private readonly SemaphoreSlim _startGate = new(1, 1);
        private DateTime _startedAt;

        public ProcessResource Resource { get; } = resource;

        public int Index { get; } = index;

        public string Name => Resource.ReplicaName(Index);

        public SupervisedProcess? Process { get; private set; }

        public ResourceLog? Log { get; private set; }

        public bool StopRequested { get; private set; }

        public string State { get; private set; } = "Waiting";

        public int Restarts { get; private set; }

        /// <summary>
        /// Starts the process (after preparing its resource, when asked: its data folder, a first-run setup), or, when
        /// it is running already (started again meanwhile), only waits until it is healthy.
        /// </summary>
        public async Task StartAsync(RunContext context, CancellationToken cancellationToken, bool prepare = false)
        {
            await _startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (Process is not { HasExited: false })
                {
                    if (prepare)
                    {
                        await Resource.PrepareAsync(context, cancellationToken).ConfigureAwait(false);
                    }

                    await LaunchAsync(context, cancellationToken).ConfigureAwait(false);
                }

                await WaitHealthyAsync(context, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _startGate.Release();
            }
        }

        /// <summary>
        /// Restarts the process whenever it exits without being asked to — a crash, a kill, an exit with an error —
        /// after a delay that doubles from 2 s to 30 s while the restarts keep failing, until the application stops.
        /// </summary>
        public async Task SuperviseAsync(RunContext context, Action<Replica> restarted, CancellationToken stopping)
        {
            var delay = s_firstRestartDelay;
            try
            {
                while (!stopping.IsCancellationRequested)
                {
                    var process = Process;
                    if (process is null || process.HasExited && (StopRequested || Process != process))
                    {
                        // Stopped on purpose (or not started yet): wait for whoever starts it again.
                        await Task.Delay(200, stopping).ConfigureAwait(false);
                        continue;
                    }

                    var code = await process.Exited.WaitAsync(stopping).ConfigureAwait(false);
                    if (StopRequested || Process != process)
                    {
                        continue;
                    }

                    if (DateTime.UtcNow - _startedAt >= s_stableAfter)
                    {
                        delay = s_firstRestartDelay;
                    }

                    Restarts++;
                    State = "Restarting";
                    Log?.Write($"*** exited unexpectedly with code {code}; restarting in {delay.TotalSeconds:0} s (restart {Restarts})");
                    await Task.Delay(delay, stopping).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxRestartDelay.Ticks));
                    try
                    {
                        await StartAsync(context, stopping, prepare: true).ConfigureAwait(false);
                        Log?.Write($"*** healthy again after restart {Restarts}");
                        restarted(this);
                    }
                    catch (ResourceStartupException ex)
                    {
                        Log?.Write($"*** restart {Restarts} failed: {ex.Message}");
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
        }

        private async Task LaunchAsync(RunContext context, CancellationToken cancellationToken)
        {
            Log ??= new ResourceLog(Name, Path.Combine(context.StateDirectory, "logs"), context.Options.WriteLogsToConsole);
            if (Process is not null)
            {
                await Process.DisposeAsync().ConfigureAwait(false);
            }

            State = "Starting";
            var spec = Resource.CreateProcessSpec(context, Index) with { Nice = Resource.CpuNice };
            Process = await SupervisedProcess.StartAsync(spec, context.WatchdogPath, Path.Combine(context.StateDirectory, ".run", Name + ".pid"), Log.Write, cancellationToken).ConfigureAwait(false);
            _startedAt = DateTime.UtcNow;
            // Only now: until the new process is there, its supervisor reads the old one's exit as asked for.
            StopRequested = false;
        }

        private async Task WaitHealthyAsync(RunContext context, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (Process!.HasExited)
                {
                    State = "Failed";
                    throw new ResourceStartupException(Name, $"exited with code {await Process.Exited.ConfigureAwait(false)} while starting", Log!.Tail(30));
                }

                if (await ProbeQuietlyAsync(context, cancellationToken).ConfigureAwait(false))
                {
                    State = "Running";
                    return;
                }

                if (clock.Elapsed > Resource.StartupTimeout)
                {
                    State = "Unhealthy";
                    throw new ResourceStartupException(Name, $"did not become healthy within {Resource.StartupTimeout.TotalSeconds:0} s", Log!.Tail(30));
                }

                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }

        public async Task StopAsync()
        {
            if (Process is { } process)
            {
                StopRequested = true;
                State = "Stopping";
                await process.StopAsync().ConfigureAwait(false);
                State = "Stopped";
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Process is not null)
            {
                await Process.DisposeAsync().ConfigureAwait(false);
            }

            Log?.Dispose();
            _startGate.Dispose();
        }

        private async Task<bool> ProbeQuietlyAsync(RunContext context, CancellationToken cancellationToken)
        {
            try
            {
                return await Resource.ProbeAsync(context, Index, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }
}
