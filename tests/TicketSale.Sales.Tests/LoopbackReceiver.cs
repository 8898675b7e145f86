using System.Net;
using System.Net.Sockets;

namespace TicketSale.Sales.Tests;

/// <summary>An HTTP server of the test's own on a free loopback port, handing every request to <see cref="HandleAsync"/>.</summary>
public abstract class LoopbackReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    protected LoopbackReceiver(string path = "/")
    {
        Endpoint = new Uri($"http://127.0.0.1:{FreePort()}{path}");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(ReceiveAsync);
    }

    public Uri Endpoint { get; }

    /// <summary>Reads the request and answers it (the response is closed afterwards).</summary>
    protected abstract Task HandleAsync(HttpListenerContext context);

    private async Task ReceiveAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            await HandleAsync(context);
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
        GC.SuppressFinalize(this);
    }
}
