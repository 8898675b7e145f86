using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace TicketSale.Web.Gateway;

/// <summary>
/// Which release of the Api takes the gateway's traffic: the service-discovery name the proxy, the readiness check and
/// the browser sessions resolve (<c>api</c>, or <c>api-green</c> while a blue-green release has switched to green).
/// A switch names the new release's replicas and swaps the name at once: requests forwarded before it finish on the
/// old release, every later one goes to the new. The AppHost sets the live name when the gateway starts
/// (<c>Gateway:ApiService</c>) and switches it through <see cref="ReleaseApi"/>.
/// </summary>
internal sealed class ApiRelease : IDisposable
{
    private readonly ReleaseEndpoints _endpoints;
    private CancellationTokenSource _switched = new();

    public ApiRelease(IConfiguration configuration, ReleaseEndpoints endpoints)
    {
        _endpoints = endpoints;
        Service = configuration["Gateway:ApiService"] ?? DefaultService;
    }

    public const string DefaultService = "api";

    public string Service { get; private set; }

    /// <summary>The address service discovery expands into the live release's replicas.</summary>
    public Uri Address => new($"http://{Service}");

    /// <summary>Fires at the next switch.</summary>
    public IChangeToken SwitchToken => new CancellationChangeToken(_switched.Token);

    public void Switch(string service, IReadOnlyList<Uri> endpoints)
    {
        _endpoints.Set(service, endpoints);
        Service = service;
        using var previous = Interlocked.Exchange(ref _switched, new CancellationTokenSource());
        previous.Cancel();
    }

    public void Dispose() => _switched.Dispose();
}

/// <summary>
/// The replicas of a release the gateway was told of after it started, as service-discovery configuration
/// (<c>services:{name}:http:{i}</c>) over what its environment gave.
/// </summary>
internal sealed class ReleaseEndpoints : ConfigurationProvider, IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>
    /// Names a release's replicas. Those of other releases stay: what still resolves the old release's name in the
    /// moment of a switch (the proxy re-reads its destinations on every change) must find its replicas, not nothing.
    /// </summary>
    public void Set(string service, IReadOnlyList<Uri> endpoints)
    {
        var prefix = $"services:{service}:";
        var data = Data.Where(e => !e.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).ToDictionary(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < endpoints.Count; i++)
        {
            data[string.Create(CultureInfo.InvariantCulture, $"{prefix}http:{i}")] = endpoints[i].ToString().TrimEnd('/');
        }

        Data = data;
        OnReload();
    }
}

internal static class ApiReleaseExtensions
{
    public static IHostApplicationBuilder AddApiRelease(this IHostApplicationBuilder builder)
    {
        var endpoints = new ReleaseEndpoints();
        builder.Configuration.Add(endpoints);
        builder.Services.AddSingleton(endpoints);
        builder.Services.AddSingleton<ApiRelease>();
        return builder;
    }
}
