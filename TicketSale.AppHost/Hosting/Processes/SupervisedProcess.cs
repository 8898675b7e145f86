using System.Diagnostics;
using System.Globalization;

namespace TicketSale.AppHost.Hosting.Processes;

/// <summary>
/// One running process of a resource, launched through the watchdog wrapper in its own session. The wrapper's
/// standard input is a pipe only this process writes to: closing it stops the child, and so does our death.
/// </summary>
internal sealed class SupervisedProcess : IAsyncDisposable
{
    private readonly Process _wrapper;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SupervisedProcess(Process wrapper, int childPid, ProcessSpec spec)
    {
        _wrapper = wrapper;
        ChildPid = childPid;
        Spec = spec;
    }

    public ProcessSpec Spec { get; }

    /// <summary>The wrapper's process id.</summary>
    public int WrapperPid => _wrapper.Id;

    /// <summary>The resource's own process id (the server, not the wrapper).</summary>
    public int ChildPid { get; }

    /// <summary>Completes with the exit code when the process has ended, for whatever reason.</summary>
    public Task<int> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    public static async Task<SupervisedProcess> StartAsync(ProcessSpec spec, string watchdogPath, string pidFile, Action<string> onOutput, CancellationToken cancellationToken)
    {
        File.Delete(pidFile);
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        // setsid gives the resource its own session: a Ctrl+C in the terminal reaches only the orchestrator, which
        // then stops everything in dependency order. --wait keeps setsid as the wrapper's parent in the rare case
        // where it has to fork.
        start.ArgumentList.Add("--wait");
        start.ArgumentList.Add("bash");
        start.ArgumentList.Add(watchdogPath);
        start.ArgumentList.Add(spec.StopSignal);
        start.ArgumentList.Add(((int)Math.Ceiling(spec.StopGracePeriod.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(pidFile);
        start.ArgumentList.Add(spec.Nice.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--");
        if (spec.RunAsUser is { } user && Environment.UserName == "root")
        {
            start.ArgumentList.Add("setpriv");
            start.ArgumentList.Add($"--reuid={user}");
            start.ArgumentList.Add($"--regid={user}");
            start.ArgumentList.Add("--init-groups");
        }

        start.ArgumentList.Add(spec.FileName);
        foreach (var argument in spec.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in spec.Environment)
        {
            start.Environment[key] = value;
        }

        var wrapper = new Process { StartInfo = start, EnableRaisingEvents = true };
        wrapper.OutputDataReceived += (_, e) => { if (e.Data is not null) { onOutput(e.Data); } };
        wrapper.ErrorDataReceived += (_, e) => { if (e.Data is not null) { onOutput(e.Data); } };
        wrapper.Start();
        wrapper.BeginOutputReadLine();
        wrapper.BeginErrorReadLine();

        var childPid = await ReadPidFileAsync(pidFile, wrapper, cancellationToken).ConfigureAwait(false);
        var process = new SupervisedProcess(wrapper, childPid, spec);
        _ = process.WatchExitAsync();
        return process;
    }

    /// <summary>Asks the process to stop (its stop signal, then SIGKILL after the grace period) and waits for it.</summary>
    public async Task StopAsync()
    {
        if (HasExited)
        {
            return;
        }

        try
        {
            _wrapper.StandardInput.Close();
        }
        catch (IOException)
        {
            // The wrapper is already gone.
        }

        var deadline = Spec.StopGracePeriod + TimeSpan.FromSeconds(5);
        if (await Task.WhenAny(Exited, Task.Delay(deadline)).ConfigureAwait(false) != Exited)
        {
            Kill();
            await Exited.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Kills the resource's process and every process it started with SIGKILL, as a crash would: no clean shutdown,
    /// no flush. The whole tree, because a server's command is not always the server: <c>rabbitmq-server</c> is a
    /// script, and killing the script alone left its Erlang VM — the broker — running.
    /// </summary>
    public void Kill()
    {
        SignalChild(ChildPid);
    }

    private static void SignalChild(int pid)
    {
        try
        {
            using var child = Process.GetProcessById(pid);
            child.Kill(entireProcessTree: true);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Exited between the lookup and the kill.
        }
    }

    private async Task WatchExitAsync()
    {
        await _wrapper.WaitForExitAsync().ConfigureAwait(false);
        _exited.TrySetResult(_wrapper.ExitCode);
    }

    private static async Task<int> ReadPidFileAsync(string pidFile, Process wrapper, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (File.Exists(pidFile)
                && int.TryParse((await File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false)).Trim(), out var pid))
            {
                return pid;
            }

            if (wrapper.HasExited)
            {
                break;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"The process wrapper did not report its child's process id ({pidFile}).");
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _wrapper.Dispose();
    }
}
