using System.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace TicketSale.AppHost.Tests;

/// <summary>Start-up, shutdown and failure behaviour of the orchestrator itself.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Stopping_the_app_leaves_none_of_the_processes_it_started()
    {
        var app = DistributedApplicationTestingBuilder.Create<Program>();
        await app.StartAsync();
        var started = ProcessTree.DescendantsOf(app.GetProcessIds());
        Assert.True(started.Count >= 16, $"expected wrappers and servers for 8 resources, saw {started.Count}");

        await app.DisposeAsync();

        var alive = await ProcessTree.WaitUntilAllGoneAsync(started, TimeSpan.FromSeconds(5));
        Assert.True(alive.Count == 0, "still running: " + ProcessTree.Describe(alive));
    }

    [Fact]
    public async Task Killing_the_apphost_itself_leaves_no_orphan()
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), "ticketsale-test-" + Guid.NewGuid().ToString("N")[..12]);
        var (apphost, _, ready) = StartAppHostProcess(stateDirectory);
        using var process = apphost;
        try
        {
            await ready.WaitAsync(TimeSpan.FromMinutes(2));
            var started = ProcessTree.DescendantsOf([apphost.Id]);
            started.ExceptWith([apphost.Id]);
            Assert.True(started.Count >= 16, $"expected wrappers and servers for 8 resources, saw {started.Count}");

            apphost.Kill(); // SIGKILL: no handler runs, only the kernel closes the AppHost's pipes.

            var alive = await ProcessTree.WaitUntilAllGoneAsync(started, TimeSpan.FromSeconds(45));
            Assert.True(alive.Count == 0, "orphans: " + ProcessTree.Describe(alive));
        }
        finally
        {
            if (!apphost.HasExited)
            {
                apphost.Kill();
            }

            Directory.Delete(stateDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_binary_fails_fast_naming_the_package_to_install()
    {
        var emptyDirectory = Directory.CreateTempSubdirectory("ticketsale-empty-path-").FullName;
        var app = DistributedApplicationTestingBuilder.Create<Program>(builder =>
            builder.Options.Executables = new ExecutableLocator([emptyDirectory]));

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<MissingPrerequisitesException>(() => app.StartAsync());

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains("apt-get install", error.Message, StringComparison.Ordinal);
        foreach (var package in new[] { "redis-server", "postgresql", "rabbitmq-server" })
        {
            Assert.Contains(package, error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(app.GetProcessIds());
        await app.DisposeAsync();
        Directory.Delete(emptyDirectory);
    }

    [Fact]
    public async Task A_resource_that_never_becomes_healthy_fails_with_the_tail_of_its_log()
    {
        var builder = DistributedApplicationTestingBuilder.CreateBuilder();
        builder.AddExecutable("sulky", "bash", "-c", "echo 'listening on nothing at all' >&2; exec sleep 60")
            .WithHttpEndpoint(env: "PORT")
            .WithHttpHealthCheck("/health")
            .WithStartupTimeout(TimeSpan.FromSeconds(2));
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<ResourceStartupException>(() => app.StartAsync());

        Assert.Equal("sulky", error.Resource);
        Assert.Contains("did not become healthy within 2 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("listening on nothing at all", error.Message, StringComparison.Ordinal);
        Assert.Empty(app.GetProcessIds());
    }

    [Fact]
    public async Task A_resource_that_exits_while_starting_fails_at_once_with_its_log()
    {
        var builder = DistributedApplicationTestingBuilder.CreateBuilder();
        builder.AddExecutable("crashing", "bash", "-c", "echo 'fatal: bad configuration'; exit 3")
            .WithStartupTimeout(TimeSpan.FromSeconds(30))
            .WithHttpEndpoint(env: "PORT")
            .WithHttpHealthCheck("/health");
        await using var app = builder.Build();

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ResourceStartupException>(() => app.StartAsync());

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Contains("exited with code 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("fatal: bad configuration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_shows_a_crashed_service_restarted_in_its_resource_table()
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), "ticketsale-test-" + Guid.NewGuid().ToString("N")[..12]);
        var (apphost, output, ready) = StartAppHostProcess(stateDirectory);
        using var process = apphost;
        try
        {
            await ready.WaitAsync(TimeSpan.FromMinutes(2));
            // The table's row: name, state, pid, restarts, endpoint.
            int WorkerColumn(int column) => int.Parse(output.Last(l => l.TrimStart().StartsWith("worker ", StringComparison.Ordinal))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)[column], System.Globalization.CultureInfo.InvariantCulture);
            await Eventually.SucceedsAsync(() => Task.FromResult(WorkerColumn(2)), TimeSpan.FromSeconds(5));
            var worker = WorkerColumn(2);
            Assert.Equal(0, WorkerColumn(3));

            Process.GetProcessById(worker).Kill();

            await Eventually.SucceedsAsync(() =>
            {
                Assert.Contains(output, l => l.Contains("worker crashed and was restarted (restart 1)", StringComparison.Ordinal));
                return Task.CompletedTask;
            }, TimeSpan.FromSeconds(60));
            await Eventually.SucceedsAsync(() =>
            {
                Assert.Equal(1, WorkerColumn(3));
                Assert.NotEqual(worker, WorkerColumn(2));
                Assert.True(ProcessTree.IsRunning(WorkerColumn(2)));
                return Task.CompletedTask;
            }, TimeSpan.FromSeconds(10));
        }
        finally
        {
            var started = ProcessTree.DescendantsOf([apphost.Id]);
            if (!apphost.HasExited)
            {
                apphost.Kill();
            }

            await ProcessTree.WaitUntilAllGoneAsync(started, TimeSpan.FromSeconds(45));
            Directory.Delete(stateDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_crashed_server_is_restarted_by_itself_with_a_growing_backoff_and_a_stopped_one_is_not()
    {
        var builder = DistributedApplicationTestingBuilder.CreateBuilder();
        builder.AddRedis("cache");
        await using var app = builder.Build();
        await app.StartAsync();

        // Crashed twice in a row: back each time, the second time after twice the delay.
        for (var crash = 1; crash <= 2; crash++)
        {
            var killed = app.GetProcessId("cache")!.Value;
            await app.KillResourceAsync("cache");
            await Eventually.SucceedsAsync(async () =>
            {
                Assert.NotEqual(killed, app.GetProcessId("cache"));
                await using var redis = await ConnectionMultiplexer.ConnectAsync(app.GetConnectionString("cache"));
                await redis.GetDatabase().PingAsync();
            }, TimeSpan.FromSeconds(30));
            Assert.Equal(crash, app.GetRestartCount("cache"));
        }

        var log = string.Join('\n', app.GetLogs("cache", lines: 1000));
        Assert.Contains("restarting in 2 s (restart 1)", log, StringComparison.Ordinal);
        Assert.Contains("restarting in 4 s (restart 2)", log, StringComparison.Ordinal);

        // Stopped on purpose: it stays stopped.
        await app.StopResourceAsync("cache");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(2, app.GetRestartCount("cache"));
        Assert.False(ProcessTree.IsRunning(app.GetProcessId("cache")!.Value));
    }

    [Fact]
    public async Task Data_is_kept_between_runs_and_a_fresh_start_discards_it()
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), "ticketsale-test-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            await RunPostgresAsync(stateDirectory, fresh: false, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)");
            Assert.Equal(42, await RunPostgresAsync(stateDirectory, fresh: false, "SELECT id FROM kept"));
            var error = await Assert.ThrowsAsync<PostgresException>(() => RunPostgresAsync(stateDirectory, fresh: true, "SELECT id FROM kept"));
            Assert.Equal(PostgresErrorCodes.UndefinedTable, error.SqlState);
        }
        finally
        {
            Directory.Delete(stateDirectory, recursive: true);
        }
    }

    /// <summary>The AppHost as ./run.sh runs it, in a process of its own: its console lines, and when it says it is ready.</summary>
    private static (Process AppHost, System.Collections.Concurrent.ConcurrentQueue<string> Output, Task Ready) StartAppHostProcess(string stateDirectory)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { typeof(Program).Assembly.Location, "--state-dir", stateDirectory, "--fresh", "--quiet" })
        {
            start.ArgumentList.Add(argument);
        }

        var apphost = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        apphost.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
                if (line.Contains("All resources healthy", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            }
        };
        apphost.BeginOutputReadLine();
        apphost.BeginErrorReadLine();
        return (apphost, output, ready.Task);
    }

    private static async Task<object?> RunPostgresAsync(string stateDirectory, bool fresh, string sql)
    {
        var builder = DistributedApplicationTestingBuilder.CreateBuilder();
        builder.Options.StateDirectory = stateDirectory;
        builder.Options.Fresh = fresh;
        builder.Options.DiscardStateOnDispose = false;
        builder.AddPostgres("postgres").AddDatabase("tickets");
        await using var app = builder.Build();
        await app.StartAsync();

        await using var connection = new NpgsqlConnection(app.GetConnectionString("tickets"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
