using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;
using TicketSale.Web.Gateway;
using Yarp.ReverseProxy.Configuration;

namespace TicketSale.UnitTests;

/// <summary>The gateway's resolver over the real service-discovery stack, fed Aspire-style configuration.</summary>
public sealed class DestinationResolverTests
{
    [Fact]
    public async Task A_service_address_becomes_one_destination_per_replica()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["services:api:http:0"] = "http://127.0.0.1:5001",
            ["services:api:http:1"] = "http://127.0.0.1:5002",
        }).Build();
        await using var services = Gateway(configuration);
        var resolver = services.GetRequiredService<ServiceDiscoveryDestinationResolver>();

        var resolved = await resolver.ResolveDestinationsAsync(
            new Dictionary<string, DestinationConfig> { ["api"] = new() { Address = "http://api" } }, CancellationToken.None);

        Assert.Equal(["http://127.0.0.1:5001/", "http://127.0.0.1:5002/"], resolved.Destinations.Values.Select(d => d.Address).Order());
        Assert.Equal(["api/0", "api/1"], resolved.Destinations.Keys.Order());
        Assert.NotNull(resolved.ChangeToken);
    }

    [Fact]
    public async Task A_switch_sends_the_api_to_the_new_releases_replicas_and_the_old_name_still_resolves()
    {
        var endpoints = new ReleaseEndpoints();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["services:api:http:0"] = "http://127.0.0.1:5001",
            ["services:api:http:1"] = "http://127.0.0.1:5002",
        }).Add(endpoints).Build();
        await using var services = Gateway(configuration, endpoints);
        var resolver = services.GetRequiredService<ServiceDiscoveryDestinationResolver>();
        var release = services.GetRequiredService<ApiRelease>();
        var api = new Dictionary<string, DestinationConfig> { ["api"] = new() { Address = ApiGateway.ApiAddress } };
        var blue = await resolver.ResolveDestinationsAsync(api, CancellationToken.None);

        release.Switch("api-green", [new Uri("http://127.0.0.1:6001"), new Uri("http://127.0.0.1:6002")]);
        Assert.True(blue.ChangeToken!.HasChanged);
        var green = await resolver.ResolveDestinationsAsync(api, CancellationToken.None);
        Assert.Equal(["http://127.0.0.1:6001/", "http://127.0.0.1:6002/"], green.Destinations.Values.Select(d => d.Address).Order());
        Assert.Equal("http://api-green/", release.Address.ToString());

        // Back to blue: the green replicas stay known, so a resolution caught between the two sees replicas, not nothing.
        release.Switch("api", [new Uri("http://127.0.0.1:5001"), new Uri("http://127.0.0.1:5002")]);
        Assert.Equal(["http://127.0.0.1:5001/", "http://127.0.0.1:5002/"], (await resolver.ResolveDestinationsAsync(api, CancellationToken.None)).Destinations.Values.Select(d => d.Address).Order());
        Assert.Equal("http://127.0.0.1:6001", configuration["services:api-green:http:0"]);
    }

    private static ServiceProvider Gateway(IConfiguration configuration, ReleaseEndpoints? endpoints = null) => new ServiceCollection()
        .AddSingleton(configuration)
        .AddServiceDiscovery()
        .AddSingleton(endpoints ?? new ReleaseEndpoints())
        .AddSingleton<ApiRelease>()
        .AddSingleton<ServiceDiscoveryDestinationResolver>()
        .BuildServiceProvider();
}
