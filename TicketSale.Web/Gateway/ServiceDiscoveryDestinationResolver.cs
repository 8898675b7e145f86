using System.Net;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace TicketSale.Web.Gateway;

/// <summary>
/// Expands each configured YARP destination whose address names a service (<c>http://api</c>) into one destination
/// per endpoint that service discovery knows for it (every Api replica), and tells YARP to resolve again when the
/// endpoints change.
/// </summary>
internal sealed class ServiceDiscoveryDestinationResolver(ServiceEndpointResolver resolver, ApiRelease release) : IDestinationResolver
{
    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        // A blue-green switch re-resolves the Api's destinations under the new release's name.
        var changeTokens = new List<IChangeToken> { release.SwitchToken };

        foreach (var (name, destination) in destinations)
        {
            var service = destination.Address == ApiGateway.ApiAddress ? $"http://{release.Service}" : destination.Address;
            var serviceUri = new Uri(service);
            var source = await resolver.GetEndpointsAsync(service, cancellationToken).ConfigureAwait(false);
            changeTokens.Add(source.ChangeToken);

            for (var i = 0; i < source.Endpoints.Count; i++)
            {
                var address = ToAddress(serviceUri, source.Endpoints[i].EndPoint);
                resolved[$"{name}/{i}"] = destination with { Address = address, Host = destination.Host };
            }
        }

        return new ResolvedDestinationCollection(resolved, new CompositeChangeToken(changeTokens));
    }

    private static string ToAddress(Uri serviceUri, EndPoint endPoint)
    {
        // Keep the configured path (e.g. a path base) and take scheme, host and port from the resolved endpoint.
        var scheme = serviceUri.Scheme.Contains('+', StringComparison.Ordinal) ? serviceUri.Scheme.Split('+')[^1] : serviceUri.Scheme;
        var builder = endPoint switch
        {
            UriEndPoint uri => new UriBuilder(uri.Uri),
            IPEndPoint ip => new UriBuilder(scheme, ip.Address.ToString(), ip.Port),
            DnsEndPoint dns => new UriBuilder(scheme, dns.Host, dns.Port),
            _ => throw new NotSupportedException($"Unsupported endpoint type {endPoint.GetType().Name} for {serviceUri}."),
        };
        builder.Path = serviceUri.AbsolutePath;
        return builder.Uri.ToString();
    }
}
