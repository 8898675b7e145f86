using System.Net;
using System.Net.Sockets;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Connections opened and left idle cost a process memory and descriptors: past its bound the gateway refuses new
/// ones, and serves again as soon as the flood lets go.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class ConnectionFloodTests(SecurityFixture fixture)
{
    [Fact]
    public async Task Idle_connections_beyond_the_bound_are_refused_and_service_returns_when_they_close()
    {
        var gateway = fixture.App.GetEndpoint("web");
        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < SecurityFixture.MaxConnections + 20; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                flood.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, gateway.Port);
            }

            using var visitor = fixture.NewVisitor();
            await Eventually.HoldsAsync(async () =>
            {
                try
                {
                    using var refused = await visitor.GetAsync("/alive");
                    return false;
                }
                catch (HttpRequestException)
                {
                    return true;
                }
            }, "a request beyond the bound to be refused", TimeSpan.FromSeconds(10));
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }

        using var after = fixture.NewVisitor();
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                using var served = await after.GetAsync("/alive");
                return served.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the gateway to serve again", TimeSpan.FromSeconds(10));
    }
}
