using System.Net;

namespace TicketSale.Api.Apis;

/// <summary>
/// Admin routes answer only clients on the networks in <c>Admin:AllowedNetworks</c> (CIDR, e.g. an office's or a VPN's
/// range), when it lists any: a stolen admin token is then of no use from anywhere else. The client's address is the
/// one the forwarded-headers middleware resolved behind the trusted gateway.
/// </summary>
internal static class AdminNetworks
{
    public const string Setting = "Admin:AllowedNetworks";

    public static TBuilder FromAllowedNetworks<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var allowed = http.RequestServices.GetRequiredService<IConfiguration>().GetSection(Setting).Get<string[]>() ?? [];
            if (allowed.Length == 0 || (http.Connection.RemoteIpAddress is { } client && allowed.Any(n => Contains(n, client))))
            {
                return await next(context);
            }

            return TypedResults.Problem("Admin routes are not reachable from this network.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        });

    private static bool Contains(string network, IPAddress client)
    {
        var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        return IPNetwork.TryParse(network, out var parsed) && parsed.Contains(address);
    }
}
