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

    public static HttpRequestMessage Post(Uri server, string path, string authorization, string body, string? idempotencyKey = null, string? admission = null) =>
        Post(new Uri(server, path), authorization, Encoding.UTF8.GetBytes(body), idempotencyKey, admission);

    /// <param name="authorization">The whole header value, as <see cref="Buyer.Authorization"/> keeps it.</param>
    /// <param name="body">UTF-8 JSON: a load that sends the same body again and again encodes it once.</param>
    public static HttpRequestMessage Post(Uri uri, string authorization, byte[] body, string? idempotencyKey = null, string? admission = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = s_json;
        Authorize(request, authorization);
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

    public static HttpRequestMessage Get(Uri server, string path, string authorization) => WithoutBody(HttpMethod.Get, server, path, authorization);

    public static HttpRequestMessage Delete(Uri server, string path, string authorization) => WithoutBody(HttpMethod.Delete, server, path, authorization);

    private static HttpRequestMessage WithoutBody(HttpMethod method, Uri server, string path, string authorization)
    {
        var request = new HttpRequestMessage(method, new Uri(server, path));
        Authorize(request, authorization);
        return request;
    }

    /// <summary>
    /// The header as it goes on the wire. A parsed <see cref="AuthenticationHeaderValue"/> is formatted into a new
    /// string on every request, and the token is about 700 characters: 1.4 KB of garbage per request in a client
    /// whose own collections pause every request it has in flight.
    /// </summary>
    private static void Authorize(HttpRequestMessage request, string authorization) =>
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

    /// <summary>Sends and reads the answer: its outcome, and its JSON when there is one worth reading.</summary>
    public static async Task<(HttpStatusCode Status, JsonDocument? Body)> SendAsync(HttpMessageInvoker http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var (status, body, _) = await SendReadingRetryAfterAsync(http, request, cancellationToken);
        return (status, body);
    }

    /// <summary>Also the Retry-After of an answer that has one: how long a turned-away client waits before asking again.</summary>
    public static async Task<(HttpStatusCode Status, JsonDocument? Body, TimeSpan? RetryAfter)> SendReadingRetryAfterAsync(
        HttpMessageInvoker http, HttpRequestMessage request, CancellationToken cancellationToken)
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

/// <summary>A buyer of the bench: its user, and the Authorization header of its requests, built once.</summary>
public readonly record struct Buyer(Guid User, string Authorization)
{
    private const string Scheme = "Bearer ";

    /// <summary>A new user with a customer token the target's Api accepts.</summary>
    public static Buyer Mint(BenchTarget target, TimeSpan lifetime)
    {
        var user = Guid.NewGuid();
        return new Buyer(user, Scheme + target.MintCustomerToken(user, lifetime));
    }

    /// <summary>The access token alone (wrk's request lines add the scheme themselves).</summary>
    public string Token => Authorization[Scheme.Length..];
}

/// <summary>A pool of buyers with tokens minted up front, handed out in turn.</summary>
public sealed class BuyerPool
{
    private readonly Buyer[] _buyers;
    private long _next = -1;

    public BuyerPool(BenchTarget target, int size, TimeSpan lifetime)
    {
        _buyers = new Buyer[size];
        Parallel.For(0, size, i => _buyers[i] = Buyer.Mint(target, lifetime));
    }

    public int Count => _buyers.Length;

    public Buyer this[int index] => _buyers[index];

    public Buyer Next() => _buyers[(int)(Interlocked.Increment(ref _next) % _buyers.Length)];
}
