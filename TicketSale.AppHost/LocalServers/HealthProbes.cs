using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using StackExchange.Redis;

namespace TicketSale.AppHost.LocalServers;

/// <summary>How the AppHost tells that a local server answers, so that <c>WaitFor</c> waits for it.</summary>
internal static class HealthProbes
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(3) };

    public static async Task<bool> TcpAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static async Task<bool> RedisAsync(string connectionString, CancellationToken cancellationToken)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 3000;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(cancellationToken).ConfigureAwait(false);
        await redis.GetDatabase().PingAsync().ConfigureAwait(false);
        return true;
    }

    public static async Task<bool> PostgresAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false;Timeout=3");
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The broker accepts connections and its management API reports no resource alarm.</summary>
    public static async Task<bool> RabbitMQAsync(int port, int managementPort, string user, ParameterResource password, CancellationToken cancellationToken)
    {
        if (!await TcpAsync(port, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{managementPort}/api/health/checks/alarms");
        var credentials = $"{user}:{await password.GetValueAsync(cancellationToken).ConfigureAwait(false)}";
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        using var response = await s_http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }
}
