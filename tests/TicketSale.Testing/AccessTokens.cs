using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TicketSale.Testing;

/// <summary>
/// Access tokens signed here, with the ES256 key the AppHost gave the Api (or any other P-256 key): many visitors
/// without many password hashes, and forged tokens for the attacks. Written from RFC 7515/7518/7638 directly, not with
/// the Api's code, so that a mistake there is not repeated here.
/// </summary>
public static class AccessTokens
{
    public static string MintCustomer(string signingKey, Guid userId, TimeSpan lifetime, string issuer = "ticketsale") =>
        Sign(signingKey, new Dictionary<string, object>
        {
            ["sub"] = userId.ToString(),
            ["role"] = "customer",
            ["email_verified"] = true,
            ["iss"] = issuer,
            ["aud"] = issuer,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["nbf"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5,
            ["exp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + (long)lifetime.TotalSeconds,
        });

    /// <summary>Signs the claims with a base64 PKCS#8 P-256 key; the header names the key by its thumbprint unless <paramref name="keyId"/> says otherwise.</summary>
    public static string Sign(string signingKey, IReadOnlyDictionary<string, object> claims, string? keyId = null)
    {
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(signingKey), out _);
        var header = Encode(JsonSerializer.SerializeToUtf8Bytes(new { alg = "ES256", typ = "JWT", kid = keyId ?? Thumbprint(key) }));
        var body = $"{header}.{Encode(JsonSerializer.SerializeToUtf8Bytes(claims))}";
        // JWS wants r || s (IEEE P1363), which is .NET's default signature format.
        return $"{body}.{Encode(key.SignData(Encoding.ASCII.GetBytes(body), HashAlgorithmName.SHA256))}";
    }

    /// <summary>A new P-256 private key, base64 PKCS#8.</summary>
    public static string NewKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Convert.ToBase64String(key.ExportPkcs8PrivateKey());
    }

    /// <summary>The key's RFC 7638 thumbprint: the id the Api gives it.</summary>
    public static string Thumbprint(string signingKey)
    {
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(signingKey), out _);
        return Thumbprint(key);
    }

    /// <summary>The key's public half, base64 SubjectPublicKeyInfo.</summary>
    public static string PublicKey(string signingKey)
    {
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(signingKey), out _);
        return Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
    }

    public static string Encode(byte[] bytes) => Base64Url.EncodeToString(bytes);

    private static string Thumbprint(ECDsa key)
    {
        var q = key.ExportParameters(includePrivateParameters: false).Q;
        var members = $$"""{"crv":"P-256","kty":"EC","x":"{{Encode(q.X!)}}","y":"{{Encode(q.Y!)}}"}""";
        return Encode(SHA256.HashData(Encoding.UTF8.GetBytes(members)));
    }
}
