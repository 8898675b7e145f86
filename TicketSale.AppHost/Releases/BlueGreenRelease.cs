using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TicketSale.AppHost.ServiceDiscovery;

namespace TicketSale.AppHost.Releases;

/// <summary>
/// Blue-green releases of the Api and the Worker, driven from the dashboard (the gateway's "Switch to green" and
/// "Switch to blue" commands) or a test: the other colour starts beside the live one, each of its Api replicas must
/// answer its health check and a smoke request, then the gateway switches all traffic to it at once. Requests already
/// forwarded finish on the old colour, which is then stopped (its services finish in-flight work on SIGTERM). A
/// rollback is the same switch the other way.
/// </summary>
internal sealed partial class BlueGreenRelease(
    BlueGreenRelease.Colours colours,
    ResourceCommandService commands,
    ResourceNotificationService notifications,
    ReplicaEndpoints replicas,
    ILogger<BlueGreenRelease> logger) : IDisposable
{
    public const string SwitchToGreen = "switch-to-green";
    public const string SwitchToBlue = "switch-to-blue";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(2);

    // The gateway forwards no new request to the old colour after the switch; those in flight finish within this.
    private static readonly TimeSpan s_drain = TimeSpan.FromSeconds(3);

    private readonly SemaphoreSlim _switching = new(1, 1);

    /// <summary>A colour: the Api and the Worker released together.</summary>
    public sealed record Colour(string Name, IResource Api, IResource Worker);

    public sealed record Colours(Colour Blue, Colour Green, IResource Gateway, ParameterResource ManagementKey);

    public Colour Live { get; private set; } = colours.Blue;

    /// <summary>
    /// Declares the switch: the gateway starts on the live colour's Api and gets a command to switch to each colour.
    /// </summary>
    public static void AddBlueGreenRelease(IResourceBuilder<ProjectResource> gateway, Colours colours)
    {
        gateway.ApplicationBuilder.Services.AddSingleton(colours);
        gateway.ApplicationBuilder.Services.AddSingleton<BlueGreenRelease>();
        gateway.WithEnvironment(context => context.EnvironmentVariables["Gateway__ApiService"] =
            context.ExecutionContext.Services.GetRequiredService<BlueGreenRelease>().Live.Api.Name);
        foreach (var (command, colour) in new[] { (SwitchToGreen, colours.Green), (SwitchToBlue, colours.Blue) })
        {
            gateway.WithCommand(command, $"Switch to {colour.Name}",
                context => context.Services.GetRequiredService<BlueGreenRelease>().SwitchAsync(colour, context.CancellationToken),
                new CommandOptions
                {
                    Description = $"Start the {colour.Name} Api and Worker, check them, send all traffic to them, then stop the other colour.",
                    IconName = "ArrowSwap",
                    UpdateState = context => context.Services.GetRequiredService<BlueGreenRelease>().Live == colour
                        ? ResourceCommandState.Disabled : ResourceCommandState.Enabled,
                });
        }
    }

    public void Dispose() => _switching.Dispose();

    public async Task<ExecuteCommandResult> SwitchAsync(Colour target, CancellationToken cancellationToken)
    {
        await _switching.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Live == target)
            {
                return CommandResults.Success($"{target.Name} is already live.");
            }

            var old = Live;
            LogStarting(logger, target.Name);
            foreach (var resource in new[] { target.Api, target.Worker })
            {
                await StartAsync(resource, cancellationToken).ConfigureAwait(false);
            }

            var endpoints = await AddressesAsync(target.Api, cancellationToken).ConfigureAwait(false);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            foreach (var endpoint in endpoints.Concat(await AddressesAsync(target.Worker, cancellationToken).ConfigureAwait(false)))
            {
                if (await SmokeTestAsync(http, endpoint, isApi: endpoints.Contains(endpoint), cancellationToken).ConfigureAwait(false) is { } failure)
                {
                    return CommandResults.Failure($"{target.Name} failed its smoke test, traffic stays on {old.Name}: {failure}");
                }
            }

            var gateway = replicas.For(colours.Gateway.Name) is [var first, ..] ? first : throw new InvalidOperationException("The gateway is not running.");
            using (var request = new HttpRequestMessage(HttpMethod.Put, new Uri(new Uri(gateway), "/internal/release")))
            {
                request.Headers.Authorization = new("Bearer", await colours.ManagementKey.GetValueAsync(cancellationToken).ConfigureAwait(false));
                request.Content = JsonContent.Create(new { service = target.Api.Name, endpoints });
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    return CommandResults.Failure($"The gateway refused the switch ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
                }
            }

            Live = target;
            LogSwitched(logger, target.Name, old.Name);
            await Task.Delay(s_drain, cancellationToken).ConfigureAwait(false);
            foreach (var resource in new[] { old.Api, old.Worker })
            {
                var stopped = await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand, cancellationToken).ConfigureAwait(false);
                if (!stopped.Success)
                {
                    return CommandResults.Failure($"{target.Name} is live, but {resource.Name} did not stop: {stopped.Message}");
                }
            }

            return CommandResults.Success($"{target.Name} is live; {old.Name} stopped.");
        }
        finally
        {
            _switching.Release();
        }
    }

    private async Task StartAsync(IResource resource, CancellationToken cancellationToken)
    {
        var started = await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, cancellationToken).ConfigureAwait(false);
        if (!started.Success)
        {
            throw new InvalidOperationException($"{resource.Name} did not start: {started.Message}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_startTimeout);
        await notifications.WaitForResourceHealthyAsync(resource.Name, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>Every replica's address, once each has one (they are learnt from the orchestrator's updates).</summary>
    private async Task<IReadOnlyList<string>> AddressesAsync(IResource resource, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var addresses = replicas.For(resource.Name);
            if (addresses.Count == resource.GetReplicaCount() || attempt == 50)
            {
                return addresses.Count > 0 ? addresses : throw new InvalidOperationException($"{resource.Name} has no replica with an address.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A replica's own readiness (given a minute to come), and for the Api a read a buyer makes, answered with success.
    /// </summary>
    private static async Task<string?> SmokeTestAsync(HttpClient http, string endpoint, bool isApi, CancellationToken cancellationToken)
    {
        var health = new Uri(new Uri(endpoint), "/health");
        for (var attempt = 0; !await SucceedsAsync(http, health, cancellationToken).ConfigureAwait(false); attempt++)
        {
            if (attempt == 60)
            {
                return $"{health} is not healthy";
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }

        var read = new Uri(new Uri(endpoint), "/api/campaigns");
        return !isApi || await SucceedsAsync(http, read, cancellationToken).ConfigureAwait(false) ? null : $"{read} did not answer with success";
    }

    private static async Task<bool> SucceedsAsync(HttpClient http, Uri uri, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting the {Colour} release beside the live one")]
    private static partial void LogStarting(ILogger logger, string colour);

    [LoggerMessage(Level = LogLevel.Information, Message = "The gateway now sends all traffic to {Colour}; stopping {Old}")]
    private static partial void LogSwitched(ILogger logger, string colour, string old);
}
