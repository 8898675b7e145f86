using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TicketSale.AppHost.Supervision;

/// <summary>
/// Restarts a process that exits with a failure — a crash, a kill, an error exit — as Kubernetes' restart policy
/// <c>OnFailure</c> would: after 2 s, doubling to 30 s while restarts keep failing, and from 2 s again once it has run
/// for 30 s. Aspire's orchestrator leaves an exited process stopped. A stop asked for (the dashboard's Stop or
/// Restart, a test's stop command) and the AppHost's own shutdown are not failures.
/// </summary>
internal sealed class RestartOnFailure(
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    ResourceLoggerService logs,
    IHostApplicationLifetime lifetime,
    ILogger<RestartOnFailure> logger) : BackgroundService
{
    private static readonly TimeSpan s_firstDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_stableAfter = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Instance> _instances = new();

    /// <summary>Marks the stop commands, so that the exit they cause is not taken for a crash.</summary>
    public static void WatchStopCommands(IDistributedApplicationBuilder builder)
    {
        builder.Eventing.Subscribe<AfterResourcesCreatedEvent>((@event, _) =>
        {
            var supervisor = @event.Services.GetRequiredService<RestartOnFailure>();
            foreach (var resource in @event.Model.Resources.Where(r => r is ProjectResource or ExecutableResource))
            {
                foreach (var name in new[] { KnownResourceCommands.StopCommand, KnownResourceCommands.RestartCommand })
                {
                    if (resource.Annotations.OfType<ResourceCommandAnnotation>().SingleOrDefault(a => a.Name == name) is { } command)
                    {
                        resource.Annotations.Remove(command);
                        resource.Annotations.Add(new ResourceCommandAnnotation(command.Name, command.DisplayName, command.UpdateState,
                            async context =>
                            {
                                supervisor.Get(context.ResourceName).StopRequested = true;
                                if (resource is not ProjectResource)
                                {
                                    return await command.ExecuteCommand(context).ConfigureAwait(false);
                                }

                                // A service ends within a second or two of SIGTERM, and the orchestrator sees it exit. Its own stop,
                                // sent while the process was going, failed on the missing process and left the resource neither
                                // running nor stopped (a clean clone's CI run): it is sent only for a service still running.
                                supervisor.Terminate(context.ResourceName);
                                if (await supervisor.WaitUntilEndedAsync(context.ResourceName, TimeSpan.FromSeconds(8), context.CancellationToken).ConfigureAwait(false))
                                {
                                    return await supervisor.AfterEndedAsync(context.ResourceName, name, context.CancellationToken).ConfigureAwait(false);
                                }

                                var result = await command.ExecuteCommand(context).ConfigureAwait(false);
                                return result.Success ? result : await supervisor.AfterTerminatedAsync(context.ResourceName, name, result, context.CancellationToken).ConfigureAwait(false);
                            },
                            command.DisplayDescription, command.Arguments, command.ConfirmationMessage, command.IconName, command.IconVariant,
                            command.IsHighlighted, command.Visibility, command.ValidateArguments));
                    }
                }
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>Raised with a resource id once a restarted instance is running again.</summary>
    public event Action<string>? Restarted;

    /// <summary>How many times an instance (a replica's resource id) was restarted after a failure.</summary>
    public int RestartCount(string resourceId) => _instances.TryGetValue(resourceId, out var instance) ? instance.Restarts : 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The orchestrator ends the services with SIGINT when the AppHost stops, which `dotnet run` keeps to itself:
        // SIGTERM reaches the service, which then shuts down cleanly instead of being killed 10 s later.
        using var stopping = lifetime.ApplicationStopping.Register(() =>
        {
            foreach (var (id, instance) in _instances)
            {
                if (instance.IsProject && instance.State == KnownResourceStates.Running)
                {
                    Terminate(id);
                }
            }
        });
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                if (update.Resource is not (ProjectResource or ExecutableResource))
                {
                    continue;
                }

                var instance = Get(update.ResourceId);
                instance.IsProject = update.Resource is ProjectResource;
                instance.ProcessId = Snapshots.ProcessId(update.Snapshot) ?? instance.ProcessId;
                var state = update.Snapshot.State?.Text;
                if (state == KnownResourceStates.Running && instance.State != KnownResourceStates.Running)
                {
                    instance.RunningSince = DateTime.UtcNow;
                    instance.StopRequested = false;
                }
                else if (state is not null && KnownResourceStates.TerminalStates.Contains(state) && instance.State is not null
                    && !KnownResourceStates.TerminalStates.Contains(instance.State))
                {
                    OnExited(update, instance);
                }

                instance.State = state;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void OnExited(ResourceEvent update, Instance instance)
    {
        var code = update.Snapshot.ExitCode;
        if (instance.StopRequested || code == 0 || lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return;
        }

        if (instance.RunningSince is { } since && DateTime.UtcNow - since >= s_stableAfter)
        {
            instance.Delay = s_firstDelay;
        }

        var delay = instance.Delay;
        instance.Delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxDelay.Ticks));
        var restart = ++instance.Restarts;
        var message = $"{update.ResourceId} exited unexpectedly with code {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}; restarting in {delay.TotalSeconds:0} s (restart {restart})";
        logs.GetLogger(update.ResourceId).LogWarning("{Message}", message);
        logger.LogWarning("{Message}", message);
        _ = RestartAsync(update.ResourceId, instance, delay, restart);
    }

    private async Task RestartAsync(string resourceId, Instance instance, TimeSpan delay, int restart)
    {
        try
        {
            await Task.Delay(delay, lifetime.ApplicationStopping).ConfigureAwait(false);
            if (instance.StopRequested || !KnownResourceStates.TerminalStates.Contains(instance.State))
            {
                return; // stopped on purpose meanwhile, or already started again by hand
            }

            var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, lifetime.ApplicationStopping).ConfigureAwait(false);
            if (!result.Success)
            {
                logger.LogWarning("Restart {Restart} of {Resource} failed: {Error}", restart, resourceId, result.Message);
                return;
            }

            await notifications.WaitForResourceAsync(NameOf(resourceId),
                e => e.ResourceId == resourceId && e.Snapshot.State?.Text == KnownResourceStates.Running, lifetime.ApplicationStopping).ConfigureAwait(false);
            Restarted?.Invoke(resourceId);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
        }
    }

    private string NameOf(string resourceId) =>
        notifications.TryGetCurrentState(resourceId, out var current) ? current.Resource.Name : resourceId;

    /// <summary>
    /// The orchestrator's stop fails when the process it was to stop has already exited — which the SIGTERM sent
    /// before it may well have made happen. A stop is then done all the same once the instance is seen exited, and a
    /// restart is completed by starting it.
    /// </summary>
    private async Task<ExecuteCommandResult> AfterTerminatedAsync(string resourceId, string command, ExecuteCommandResult failed, CancellationToken cancellationToken) =>
        await WaitUntilEndedAsync(resourceId, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false)
            ? await AfterEndedAsync(resourceId, command, cancellationToken).ConfigureAwait(false)
            : failed;

    /// <summary>Whether the instance reaches a terminal state (exited, finished …) within <paramref name="timeout"/>.</summary>
    private async Task<bool> WaitUntilEndedAsync(string resourceId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Get(resourceId).State is not { } state || !KnownResourceStates.TerminalStates.Contains(state))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>A stop is done once the instance has ended; a restart starts it again.</summary>
    private async Task<ExecuteCommandResult> AfterEndedAsync(string resourceId, string command, CancellationToken cancellationToken) =>
        command == KnownResourceCommands.StopCommand
            ? CommandResults.Success()
            : await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Sends SIGTERM to a project's <c>dotnet run</c>, which passes it to the service. The orchestrator's own stop sends
    /// SIGINT, which <c>dotnet run</c> leaves to the terminal to deliver: the service would run on until killed.
    /// </summary>
    private void Terminate(string resourceId)
    {
        if (_instances.TryGetValue(resourceId, out var instance) && instance.ProcessId is { } pid)
        {
            _ = Kill(pid, SignalTerminate);
        }
    }

    private const int SignalTerminate = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    private Instance Get(string resourceId) => _instances.GetOrAdd(resourceId, _ => new Instance());

    private sealed class Instance
    {
        public string? State { get; set; }

        public DateTime? RunningSince { get; set; }

        public bool StopRequested { get; set; }

        public TimeSpan Delay { get; set; } = s_firstDelay;

        public int Restarts { get; set; }

        public bool IsProject { get; set; }

        public int? ProcessId { get; set; }
    }
}
