using System.Net;
using System.Net.Sockets;

namespace TicketSale.AppHost.LocalServers;

/// <summary>
/// Ports for the servers' own endpoints. They are not proxied (every Redis command would pay for a hop), and Aspire
/// needs the port of an unproxied endpoint up front: a port free on loopback now.
/// </summary>
internal static class FreePort
{
    private static readonly HashSet<int> s_given = [];

    public static int Next()
    {
        lock (s_given)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (s_given.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
