using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace TicketSale.Core.Auth;

/// <summary>
/// The Api's keys for access tokens: ECDSA P-256 (ES256). <see cref="Current"/> signs; every key of
/// <see cref="Published"/> (the current one, the next one announced ahead of its use, the retired ones whose tokens
/// have not yet expired) is accepted and published as the JWKS the gateway validates with. A key's id is its JWK
/// thumbprint (RFC 7638), the same on every replica without being configured.
/// </summary>
public sealed class SigningKeys
{
    public SigningKeys(IOptions<AuthOptions> options)
    {
        var auth = options.Value;
        if (string.IsNullOrWhiteSpace(auth.SigningKey))
        {
            throw new InvalidOperationException("Auth:SigningKey is required where access tokens are issued: an ECDSA P-256 private key, PEM or base64 PKCS#8.");
        }

        Current = Load(auth.SigningKey, requirePrivate: true);
        Published = [Current, .. auth.ValidationKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => Public(Load(k, requirePrivate: false)))
            .Where(k => k.KeyId != Current.KeyId)];
    }

    public ECDsaSecurityKey Current { get; }

    public IReadOnlyList<ECDsaSecurityKey> Published { get; }

    /// <summary>A new P-256 private key as base64 PKCS#8: one line, fit for an environment variable or a secret store.</summary>
    public static string Generate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Convert.ToBase64String(key.ExportPkcs8PrivateKey());
    }

    /// <summary>
    /// A key from PEM (private or public) or base64 DER (PKCS#8 private or SubjectPublicKeyInfo), with its thumbprint
    /// as id. Only P-256 keys are taken: ES256 is the one algorithm the validators accept.
    /// </summary>
    public static ECDsaSecurityKey Load(string text, bool requirePrivate)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            if (text.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                ecdsa.ImportFromPem(text);
            }
            else
            {
                var der = Convert.FromBase64String(text.Trim());
                try
                {
                    ecdsa.ImportPkcs8PrivateKey(der, out _);
                }
                catch (CryptographicException)
                {
                    ecdsa.ImportSubjectPublicKeyInfo(der, out _);
                }
            }
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentException)
        {
            ecdsa.Dispose();
            throw new InvalidOperationException("A token key is neither PEM nor base64 PKCS#8 / SubjectPublicKeyInfo.", ex);
        }

        var parameters = ecdsa.ExportParameters(includePrivateParameters: false);
        if (parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            ecdsa.Dispose();
            throw new InvalidOperationException("Token keys must be on the P-256 curve (ES256).");
        }

        if (requirePrivate && !HasPrivateKey(ecdsa))
        {
            ecdsa.Dispose();
            throw new InvalidOperationException("Auth:SigningKey must be a private key.");
        }

        return new ECDsaSecurityKey(ecdsa) { KeyId = Thumbprint(parameters) };
    }

    /// <summary>The public half of a key, under the same id: what the JWKS publishes and validators hold.</summary>
    public static ECDsaSecurityKey Public(ECDsaSecurityKey key)
    {
        var ecdsa = ECDsa.Create(key.ECDsa.ExportParameters(includePrivateParameters: false));
        return new ECDsaSecurityKey(ecdsa) { KeyId = key.KeyId };
    }

    /// <summary>The RFC 7638 thumbprint: SHA-256 of the key's required members in lexicographic order, base64url.</summary>
    public static string Thumbprint(ECParameters parameters)
    {
        var json = $$"""{"crv":"P-256","kty":"EC","x":"{{Base64UrlEncoder.Encode(parameters.Q.X)}}","y":"{{Base64UrlEncoder.Encode(parameters.Q.Y)}}"}""";
        return Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>The JWKS document: the public keys only.</summary>
    public object JsonWebKeySet() => new
    {
        keys = Published.Select(k =>
        {
            var q = k.ECDsa.ExportParameters(includePrivateParameters: false).Q;
            return new { kty = "EC", use = "sig", alg = SecurityAlgorithms.EcdsaSha256, kid = k.KeyId, crv = "P-256", x = Base64UrlEncoder.Encode(q.X), y = Base64UrlEncoder.Encode(q.Y) };
        }).ToArray(),
    };

    private static bool HasPrivateKey(ECDsa ecdsa)
    {
        try
        {
            return ecdsa.ExportParameters(includePrivateParameters: true).D is { Length: > 0 };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
