using System.Net.Sockets;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace TicketSale.Web.Gateway;

/// <summary>
/// When a replica refuses the connection (it died, and the health checks have not noticed yet), the request never
/// reached it, so sending it to another replica is safe for any method. Runs around load balancing so each attempt
/// picks among the replicas not yet tried.
/// </summary>
internal static class RetryOnRefusedConnection
{
    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var proxy = context.GetReverseProxyFeature();
        var remaining = proxy.AvailableDestinations.ToList();
        while (true)
        {
            await next();

            if (context.Features.Get<IForwarderErrorFeature>() is not { } error
                || context.Response.HasStarted
                || !IsConnectionRefused(error)
                || proxy.ProxiedDestination is not { } failed)
            {
                return;
            }

            remaining.Remove(failed);
            if (remaining.Count == 0)
            {
                return;
            }

            proxy.AvailableDestinations = remaining;
            context.Features.Set<IForwarderErrorFeature>(null);
            context.Response.Clear();
        }
    }

    private static bool IsConnectionRefused(IForwarderErrorFeature error)
    {
        if (error.Error != ForwarderError.Request)
        {
            return false;
        }

        for (var ex = error.Exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }
}
