using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;
using StackExchange.Redis;

namespace TicketSale.AppHost.Tests;

/// <summary>Start-up, shutdown and crash behaviour of the application under Aspire's orchestrator.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Stopping_the_app_leaves_none_of_the_processes_it_started()
    {
        var app = await TicketSaleApp.StartAsync();
        var started = ProcessTree.DescendantsOf(app.GetProcessIds());
        Assert.True(started.Count >= 9, $"expected a process or more for each of 9 resources, saw {started.Count}");

        await app.DisposeAsync();

        var alive = await ProcessTree.WaitUntilAllGoneAsync(started, TimeSpan.FromSeconds(10));
        Assert.True(alive.Count == 0, "still running: " + ProcessTree.Describe(alive));
    }

    [Theory]
    [InlineData("SIGINT")]
    [InlineData("SIGTERM")]
    [InlineData("SIGKILL")]
    public async Task Ending_the_apphost_leaves_no_process_it_started(string signal)
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), "ticketsale-test-" + Guid.NewGuid().ToString("N")[..12]);
        var (apphost, output, ready) = StartAppHostProcess(stateDirectory);
        using var process = apphost;
        try
        {
            await WhenReadyAsync(apphost, output, ready);
            var started = ProcessTree.DescendantsOf([apphost.Id]);
            started.UnionWith(ProcessTree.DescendantsOf(ProcessTree.WithCommandLineContaining(stateDirectory)));
            // PostgreSQL, run as its own user, keeps its data where that user can reach it.
            started.UnionWith(ProcessTree.DescendantsOf(ProcessTree.WithCommandLineContaining(
                TicketSale.AppHost.LocalServers.StateFolder.ServiceUserFolderFor(stateDirectory))));
            started.ExceptWith([apphost.Id]);
            Assert.True(started.Count >= 9, $"expected a process or more for each of 9 resources, saw {started.Count}");

            if (signal == "SIGKILL")
            {
                apphost.Kill(); // no handler runs: Aspire's orchestrator sees its AppHost gone and stops everything
            }
            else
            {
                ProcessTree.Signal(apphost.Id, signal);
            }

            var alive = await ProcessTree.WaitUntilAllGoneAsync(started, TimeSpan.FromSeconds(60));
            Assert.True(alive.Count == 0, "left running: " + ProcessTree.Describe(alive));
        }
        finally
        {
            if (!apphost.HasExited)
            {
                apphost.Kill();
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            TicketSale.AppHost.LocalServers.StateFolder.Discard(stateDirectory);
        }
    }

    [Fact]
    public async Task A_missing_binary_fails_fast_naming_the_package_to_install()
    {
        var emptyDirectory = Directory.CreateTempSubdirectory("ticketsale-empty-path-").FullName;
        try
        {
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAnyAsync<Exception>(() => TicketSaleApp.StartAsync(
                builder => { }, binariesPath: emptyDirectory));

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
            var message = error.ToString();
            Assert.Contains("apt-get install", message, StringComparison.Ordinal);
            foreach (var package in new[] { "redis-server", "postgresql", "rabbitmq-server" })
            {
                Assert.Contains(package, message, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(emptyDirectory);
        }
    }

    [Fact]
    public async Task Run_shows_a_crashed_service_restarted_in_its_resource_table()
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), "ticketsale-test-" + Guid.NewGuid().ToString("N")[..12]);
        var (apphost, output, ready) = StartAppHostProcess(stateDirectory);
        using var process = apphost;
        try
        {
            await WhenReadyAsync(apphost, output, ready);
            // The table's row: resource id, state, pid, restarts, endpoint.
            string[] WorkerRow() => output.Last(l => l.TrimStart().StartsWith("worker-", StringComparison.Ordinal))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var worker = int.Parse(WorkerRow()[2], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal("0", WorkerRow()[3]);

            foreach (var pid in ProcessTree.DescendantsOf([worker]))
            {
                ProcessTree.Kill(pid);
            }

            await Eventually.SucceedsAsync(() =>
            {
                Assert.Contains(output, l => l.Contains("crashed and was restarted (restart 1)", StringComparison.Ordinal) && l.Contains("worker-", StringComparison.Ordinal));
                return Task.CompletedTask;
            }, TimeSpan.FromSeconds(90));
            Assert.Equal("1", WorkerRow()[3]);
            Assert.NotEqual(worker, int.Parse(WorkerRow()[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(ProcessTree.IsRunning(int.Parse(WorkerRow()[2], System.Globalization.CultureInfo.InvariantCulture)));
        }
        finally
        {
            var started = ProcessTree.DescendantsOf([apphost.Id]);
            if (!apphost.HasExited)
            {
                apphost.Kill();
            }

            await ProcessTree.WaitUntilAllGoneAsync(started, TimeSpan.FromSeconds(60));
            TicketSale.AppHost.LocalServers.StateFolder.Discard(stateDirectory);
        }
    }

    [Fact]
    public async Task A_crashed_server_is_restarted_with_a_growing_backoff_and_a_stopped_one_is_not()
    {
        await using var app = await TicketSaleApp.StartAsync();

        // Crashed twice in a row: back each time, the second time after twice the delay.
        var downtimes = new List<TimeSpan>();
        for (var crash = 1; crash <= 2; crash++)
        {
            var killed = app.GetProcessId("cache")!.Value;
            var clock = Stopwatch.StartNew();
            await app.KillResourceAsync("cache");
            await Eventually.SucceedsAsync(async () =>
            {
                Assert.NotEqual(killed, app.GetProcessId("cache"));
                await using var redis = await ConnectionMultiplexer.ConnectAsync(app.GetConnectionString("cache"));
                await redis.GetDatabase().PingAsync();
            }, TimeSpan.FromSeconds(30));
            downtimes.Add(clock.Elapsed);
            Assert.Equal(crash, app.GetRestartCount("cache"));
        }

        Assert.True(downtimes[0] >= TimeSpan.FromSeconds(2), $"first restart after {downtimes[0]}");
        Assert.True(downtimes[1] >= TimeSpan.FromSeconds(4), $"second restart after {downtimes[1]}");

        // Stopped on purpose: it stays stopped.
        await app.StopResourceAsync("cache");
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal(2, app.GetRestartCount("cache"));
        Assert.Contains(app.GetState("cache"), KnownResourceStates.TerminalStates);
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
            TicketSale.AppHost.LocalServers.StateFolder.Discard(stateDirectory);
        }
    }

    /// <summary>Waits for the AppHost to say every resource is healthy; failing, says what it printed last.</summary>
    private static async Task WhenReadyAsync(Process apphost, System.Collections.Concurrent.ConcurrentQueue<string> output, Task ready)
    {
        var finished = await Task.WhenAny(ready, apphost.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(3)));
        Assert.True(finished == ready, $"The AppHost {(apphost.HasExited ? $"exited ({apphost.ExitCode})" : "did not get ready in 3 minutes")}; its last lines:\n"
            + string.Join('\n', output.TakeLast(40)));
    }

    /// <summary>The AppHost as ./run.sh runs it, in a process of its own: its console lines, and when it says it is ready.</summary>
    private static (Process AppHost, System.Collections.Concurrent.ConcurrentQueue<string> Output, Task Ready) StartAppHostProcess(string stateDirectory)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.ChangeExtension(typeof(TicketSale.AppHost.LocalServers.StateFolder).Assembly.Location, ".dll"), "--state-dir", stateDirectory, "--fresh" })
        {
            start.ArgumentList.Add(argument);
        }

        // What the launch profile gives ./run.sh, on ports of this test's own.
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort()}";
        start.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}";
        start.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}";
        start.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["TicketSale__WebPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);

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
        apphost.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue("stderr: " + line);
            }
        };
        apphost.BeginOutputReadLine();
        apphost.BeginErrorReadLine();
        return (apphost, output, ready.Task);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<object?> RunPostgresAsync(string stateDirectory, bool fresh, string sql)
    {
        await using var app = await TicketSaleApp.StartAsync(stateDirectory: stateDirectory, fresh: fresh);
        await using var connection = new NpgsqlConnection(app.GetConnectionString("tickets"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
