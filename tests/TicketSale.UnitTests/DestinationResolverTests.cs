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
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddServiceDiscovery()
            .AddSingleton<ServiceDiscoveryDestinationResolver>()
            .BuildServiceProvider();
        var resolver = services.GetRequiredService<ServiceDiscoveryDestinationResolver>();

        var resolved = await resolver.ResolveDestinationsAsync(
            new Dictionary<string, DestinationConfig> { ["api"] = new() { Address = "http://api" } }, CancellationToken.None);

        Assert.Equal(["http://127.0.0.1:5001/", "http://127.0.0.1:5002/"], resolved.Destinations.Values.Select(d => d.Address).Order());
        Assert.Equal(["api/0", "api/1"], resolved.Destinations.Keys.Order());
        Assert.NotNull(resolved.ChangeToken);
    }
}
