using System.Net.Sockets;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace TicketSale.Web.Gateway;

/// <summary>
/// When a replica refuses the connection (it died, and the health checks have not noticed yet), the request never
/// reached it, so sending it to another replica is safe for any method. When the connection broke before any answer
/// (a replica killed with a request on its way), only a request that may be repeated and has no body to send again (GET, HEAD, OPTIONS)
/// goes to another replica. Runs around load balancing so each attempt picks among the replicas not yet tried.
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
                || !(IsConnectionRefused(error) || IsSafeToRepeat(context.Request.Method) && error.Error == ForwarderError.Request)
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

    private static bool IsSafeToRepeat(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);

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
