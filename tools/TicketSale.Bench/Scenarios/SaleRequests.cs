using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TicketSale.Bench.Load;

namespace TicketSale.Bench.Scenarios;

/// <summary>The buyer's requests, as bytes on the wire: the load client spends as little as it can on JSON.</summary>
public static class SaleRequests
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    public static string GeneralAdmissionHoldBody(Guid category, int quantity) =>
        $$"""{"generalAdmissionCategoryId":"{{category}}","quantity":{{quantity}}}""";

    public static string SeatsHoldBody(IEnumerable<int> seats) => $$"""{"seats":[{{string.Join(',', seats)}}]}""";

    public static string PurchaseBody(Guid campaign, Guid hold) => $$"""{"campaignId":"{{campaign}}","holdId":"{{hold}}"}""";

    public static HttpRequestMessage Post(Uri server, string path, string token, string body, string? idempotencyKey = null, string? admission = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, path)) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = s_json;
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (admission is not null)
        {
            request.Headers.Add("X-Admission-Token", admission);
        }

        return request;
    }

    public static HttpRequestMessage Get(Uri server, string path, string token) => WithoutBody(HttpMethod.Get, server, path, token);

    public static HttpRequestMessage Delete(Uri server, string path, string token) => WithoutBody(HttpMethod.Delete, server, path, token);

    private static HttpRequestMessage WithoutBody(HttpMethod method, Uri server, string path, string token)
    {
        var request = new HttpRequestMessage(method, new Uri(server, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>Sends and reads the answer: its outcome, and its JSON when there is one worth reading.</summary>
    public static async Task<(HttpStatusCode Status, JsonDocument? Body)> SendAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var (status, body, _) = await SendReadingRetryAfterAsync(http, request, cancellationToken);
        return (status, body);
    }

    /// <summary>Also the Retry-After of an answer that has one: how long a turned-away client waits before asking again.</summary>
    public static async Task<(HttpStatusCode Status, JsonDocument? Body, TimeSpan? RetryAfter)> SendReadingRetryAfterAsync(
        HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var body = bytes.Length > 0 && bytes[0] is (byte)'{' or (byte)'[' ? JsonDocument.Parse(bytes) : null;
            return (response.StatusCode, body, response.Headers.RetryAfter?.Delta);
        }
    }

    public static Guid? GuidProperty(JsonDocument? body, string name) =>
        body is not null && body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.String && Guid.TryParse(value.GetString(), out var id) ? id : null;

    public static Outcome OutcomeOf(HttpStatusCode status) => Outcomes.Of(status);
}

/// <summary>A pool of buyers with tokens minted up front, handed out in turn.</summary>
public sealed class BuyerPool
{
    private readonly (Guid User, string Token)[] _buyers;
    private long _next = -1;

    public BuyerPool(BenchTarget target, int size, TimeSpan lifetime)
    {
        _buyers = new (Guid, string)[size];
        Parallel.For(0, size, i =>
        {
            var user = Guid.NewGuid();
            _buyers[i] = (user, target.MintCustomerToken(user, lifetime));
        });
    }

    public int Count => _buyers.Length;

    public (Guid User, string Token) this[int index] => _buyers[index];

    public (Guid User, string Token) Next() => _buyers[(int)(Interlocked.Increment(ref _next) % _buyers.Length)];
}
