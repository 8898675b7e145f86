using System.Net;
using System.Net.Sockets;

namespace TicketSale.AppHost.LocalServers;

/// <summary>
/// Ports for the servers' own endpoints. They are not proxied (every Redis command would pay for a hop), and Aspire
/// needs the port of an unproxied endpoint up front: a port free on loopback now, below the kernel's range of ephemeral
/// ports. A port from that range, released until its server binds it, may meanwhile become the local port of any
/// outgoing connection: Redis once failed to start with "Address already in use".
/// </summary>
internal static class FreePort
{
    private const int Lowest = 20_000;
    private static readonly HashSet<int> s_given = [];

    public static int Next()
    {
        var below = Math.Min(EphemeralPortsStart(), 65_536);
        lock (s_given)
        {
            for (var attempt = 0; below - Lowest > 1_000 && attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(Lowest, below);
                if (!s_given.Contains(port) && IsFree(port))
                {
                    s_given.Add(port);
                    return port;
                }
            }

            // No room below the ephemeral range on this machine: any free port.
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

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port the kernel hands to outgoing connections (Linux's default is 32768).</summary>
    private static int EphemeralPortsStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], out var start)
            ? start
            : 32_768;
    }
}
