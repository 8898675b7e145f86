using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Access tokens are signed with the Api's ECDSA key and name it; the gateway holds no key, only the public key set the
/// Api publishes; a key announced or retired in that set is honoured; forgeries are refused at the gateway and at the Api.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class TokenKeysTests(SecurityFixture fixture)
{
    /// <summary>A path the gateway authorizes itself (the waiting room) and one it passes to the Api (orders).</summary>
    private static readonly string[] s_checkedAt = [$"/api/campaigns/{Guid.NewGuid()}/waiting-room", "/api/orders"];

    [Fact]
    public async Task Tokens_are_ES256_named_by_a_key_of_the_published_set_which_holds_public_keys_only()
    {
        using var buyer = fixture.NewVisitor();
        var email = await buyer.RegisterAsync();
        var (status, body, _) = await buyer.ApiLoginAsync(email, SaleFixture.CustomerPassword);
        Assert.Equal(HttpStatusCode.OK, status);
        var header = JsonNode.Parse(Convert.FromBase64String(Padded(((string)body!["accessToken"]!).Split('.')[0])))!;
        Assert.Equal("ES256", (string?)header["alg"]);

        using var api = fixture.App.CreateHttpClient("api");
        var keys = JsonNode.Parse(await api.GetStringAsync(new Uri("/.well-known/jwks.json", UriKind.Relative)))!["keys"]!.AsArray();
        Assert.Equal([(string)header["kid"]!, AccessTokens.Thumbprint(SecurityFixture.RetiredSigningKey)], keys.Select(k => (string)k!["kid"]!));
        Assert.All(keys, k =>
        {
            Assert.Equal("EC", (string?)k!["kty"]);
            Assert.Null(k["d"]);
        });

        // The gateway's process was given no signing key: it has nothing to sign with.
        var environment = fixture.App.GetServiceEnvironment("web");
        Assert.DoesNotContain("Auth__SigningKey", environment.Keys);
        Assert.DoesNotContain(environment.Values, v => v.Contains(fixture.App.GetParameterValue("token-signing-key"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_of_a_retired_key_still_in_the_set_is_accepted_at_the_gateway_and_the_api()
    {
        using var buyer = fixture.NewVisitor();
        var token = AccessTokens.MintCustomer(SecurityFixture.RetiredSigningKey, Guid.NewGuid(), TimeSpan.FromMinutes(1));
        foreach (var path in s_checkedAt)
        {
            Assert.NotEqual(HttpStatusCode.Unauthorized, (await GetAsync(buyer, path, token)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(buyer, "/api/orders", token)).StatusCode);
    }

    [Fact]
    public async Task Forged_tokens_are_refused_at_the_gateway_and_at_the_api()
    {
        using var forger = fixture.NewVisitor();
        var current = fixture.App.GetParameterValue("token-signing-key");
        var claims = new Dictionary<string, object>
        {
            ["sub"] = Guid.NewGuid().ToString(),
            ["role"] = "customer",
            ["iss"] = "ticketsale",
            ["aud"] = "ticketsale",
            ["nbf"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5,
            ["exp"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(),
        };
        var payload = AccessTokens.Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        string Unsigned(object header) => AccessTokens.Encode(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + payload;

        var forgeries = new Dictionary<string, string>
        {
            // A key of the forger's own, claiming to be the Api's current key.
            ["unknown key, current kid"] = AccessTokens.Sign(AccessTokens.NewKey(), claims, keyId: AccessTokens.Thumbprint(current)),
            // No signature at all.
            ["alg none"] = Unsigned(new { alg = "none", typ = "JWT" }) + ".",
            // HMAC keyed with the public key anyone can fetch (algorithm confusion).
            ["HS256 with the public key"] = HmacSigned(Unsigned(new { alg = "HS256", typ = "JWT", kid = AccessTokens.Thumbprint(current) }),
                Convert.FromBase64String(AccessTokens.PublicKey(current))),
            // The Api's own key, the signature of other claims.
            ["signature of other claims"] = Unsigned(new { alg = "ES256", typ = "JWT", kid = AccessTokens.Thumbprint(current) }) + "."
                + AccessTokens.MintCustomer(current, Guid.NewGuid(), TimeSpan.FromMinutes(5)).Split('.')[2],
        };

        foreach (var (forgery, token) in forgeries)
        {
            foreach (var path in s_checkedAt)
            {
                using var answer = await GetAsync(forger, path, token);
                Assert.True(answer.StatusCode == HttpStatusCode.Unauthorized, $"{forgery} at {path}: {(int)answer.StatusCode}");
            }

            using var api = fixture.App.CreateHttpClient("api");
            using var direct = new HttpRequestMessage(HttpMethod.Get, "/api/orders");
            direct.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(HttpStatusCode.Unauthorized, (await api.SendAsync(direct)).StatusCode);
        }
    }

    private static async Task<HttpResponseMessage> GetAsync(Visitor visitor, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await visitor.SendAsync(request);
    }

    private static string HmacSigned(string unsigned, byte[] key) =>
        unsigned + "." + AccessTokens.Encode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(unsigned)));

    private static string Padded(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        return text + new string('=', (4 - (text.Length % 4)) % 4);
    }
}
