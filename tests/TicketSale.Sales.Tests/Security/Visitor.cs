using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace TicketSale.Sales.Tests;

/// <summary>Loopback addresses for the tests' clients: all of 127.0.0.0/8 reaches this machine, each one a client of its own.</summary>
public static class Loopback
{
    private static int s_next = -1;

    public static IPAddress NextAddress()
    {
        var n = Interlocked.Increment(ref s_next);
        return new IPAddress(new byte[] { 127, 1, (byte)(n / 250), (byte)((n % 250) + 2) });
    }
}

/// <summary>
/// One client from its own loopback address, with a cookie jar: it talks to the gateway as a browser does (the session
/// cookie and the antiforgery token of /bff) or as an API client does (Bearer tokens).
/// </summary>
public sealed class Visitor : IDisposable
{
    private readonly HttpClient _http;
    private string? _antiforgeryToken;

    private readonly Mailbox? _mailbox;

    public Visitor(Uri gateway, IPAddress address, Mailbox? mailbox = null)
    {
        _mailbox = mailbox;
        Address = address;
        Cookies = new CookieContainer();
        _http = new HttpClient(new SocketsHttpHandler
        {
            CookieContainer = Cookies,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(address, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        {
            BaseAddress = gateway,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public IPAddress Address { get; }

    public CookieContainer Cookies { get; }

    public Task<HttpResponseMessage> PostAsync(string path, object? body) => _http.PostAsJsonAsync(path, body);

    public Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(path);

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => _http.SendAsync(request);

    /// <summary>
    /// Registers an account (through the gateway, from this address) and returns its e-mail address; unless told not
    /// to, confirms the address with the link from the mail, as its owner would.
    /// </summary>
    public async Task<string> RegisterAsync(string password = SaleFixture.CustomerPassword, bool confirm = true)
    {
        var email = $"visitor-{Guid.NewGuid():N}@example.com";
        using var response = await PostAsync("/api/auth/register", new { email, password });
        response.EnsureSuccessStatusCode();
        if (confirm && _mailbox is not null)
        {
            using var confirmed = await PostAsync("/api/auth/verify-email", new { token = await _mailbox.VerificationTokenAsync(email) });
            confirmed.EnsureSuccessStatusCode();
        }

        return email;
    }

    /// <summary>Signs in as an API client does: the Api's tokens in the answer.</summary>
    public async Task<(HttpStatusCode Status, JsonObject? Body, HttpResponseMessage Response)> ApiLoginAsync(string email, string password)
    {
        var response = await PostAsync("/api/auth/login", new { email, password });
        var body = response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true
            ? await response.Content.ReadFromJsonAsync<JsonObject>()
            : null;
        return (response.StatusCode, body, response);
    }

    /// <summary>Signs in with a one-time code from an authenticator app as well.</summary>
    public async Task<(HttpStatusCode Status, JsonObject? Body)> ApiLoginWithCodeAsync(string email, string password, string totpCode)
    {
        using var response = await PostAsync("/api/auth/login", new { email, password, totpCode });
        var body = response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true
            ? await response.Content.ReadFromJsonAsync<JsonObject>()
            : null;
        return (response.StatusCode, body);
    }

    /// <summary>Signs in as the web page does: a session cookie and an antiforgery token.</summary>
    public async Task<HttpResponseMessage> BrowserLoginAsync(string email, string password)
    {
        var response = await PostAsync("/bff/login", new { email, password });
        if (response.IsSuccessStatusCode)
        {
            _antiforgeryToken = (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["antiforgeryToken"];
        }

        return response;
    }

    public async Task<HttpResponseMessage> BrowserLogoutAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/bff/logout");
        request.Headers.Add("X-XSRF-TOKEN", _antiforgeryToken);
        return await _http.SendAsync(request);
    }

    /// <summary>Opens an event stream at <paramref name="url"/> (any service), reading no further than its headers.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(Uri url, string? accessToken = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accessToken is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        }

        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>The session cookie as a thief would copy it.</summary>
    public string? SessionCookie => Cookies.GetCookies(_http.BaseAddress!)["ts-session"]?.Value;

    public void Dispose() => _http.Dispose();
}
