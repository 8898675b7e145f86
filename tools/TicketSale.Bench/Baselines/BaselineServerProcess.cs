using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TicketSale.Bench.Baselines;

/// <summary>The bench's own server (<see cref="ForUpdateServer"/>) in a process of its own, like the Api.</summary>
public sealed class BaselineServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private BaselineServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public int ProcessId => _process.Id;

    public static async Task<BaselineServerProcess> StartAsync(BenchTarget target)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--postgres", target.Postgres, "--payments", target.Payments.ToString() })
        {
            start.ArgumentList.Add(argument);
        }

        // The services' GC (Directory.Build.props: Workstation, background), not the load client's (Server): an empty
        // endpoint measured under another GC than the Api's would be a ceiling the Api never had.
        start.Environment["Payments__ApiKey"] = target.PaymentsKey;
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_gcConcurrent"] = "1";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new BaselineServerProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var response = await http.PostAsync(new Uri(server.Address, "/empty"), null);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("The baseline server did not start.");
            }

            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
