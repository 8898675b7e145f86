using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace TicketSale.AppHost.Hosting;

/// <summary>What resources need while they run: their folders, generated secrets, ports and executables.</summary>
internal sealed class RunContext(DistributedApplicationOptions options, ExecutableLocator executables, string watchdogPath) : IDisposable
{
    private readonly HashSet<int> _allocated = [];
    private Dictionary<string, string>? _secrets;

    public DistributedApplicationOptions Options { get; } = options;

    public ExecutableLocator Executables { get; } = executables;

    public string WatchdogPath { get; } = watchdogPath;

    public HttpClient ProbeClient { get; } = new() { Timeout = TimeSpan.FromSeconds(3) };

    public string StateDirectory => Options.StateDirectory;

    public string ResourceDirectory(string resource)
    {
        var path = Path.Combine(StateDirectory, resource);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// A random port that is free now. With <see cref="DistributedApplicationOptions.RandomizePorts"/> off, a preferred
    /// port is honoured when it is free, so a developer's bookmarks keep working.
    /// </summary>
    public int AllocatePort(int? preferred = null)
    {
        lock (_allocated)
        {
            if (preferred is { } wanted && !Options.RandomizePorts && _allocated.Add(wanted) && IsFree(wanted))
            {
                return wanted;
            }

            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (_allocated.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>
    /// A generated secret, kept in the state folder with the data it protects (a PostgreSQL cluster keeps the password
    /// it was initialised with), so it is stable across runs and never in the repository.
    /// </summary>
    public string Secret(string key)
    {
        lock (_allocated)
        {
            var path = Path.Combine(StateDirectory, "secrets.json");
            _secrets ??= File.Exists(path)
                ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? []
                : [];
            if (!_secrets.TryGetValue(key, out var value))
            {
                // Letters and digits only: the value goes into URIs and connection strings unescaped.
                value = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 32);
                _secrets[key] = value;
                File.WriteAllText(path, JsonSerializer.Serialize(_secrets));
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            return value;
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

    public void Dispose() => ProbeClient.Dispose();
}
