using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TicketSale.Core.Auth;
using TicketSale.Testing;

namespace TicketSale.UnitTests;

public sealed class SigningKeysTests
{
    private static SigningKeys Keys(string signingKey, params string[] validationKeys) =>
        new(Options.Create(new AuthOptions { SigningKey = signingKey, ValidationKeys = validationKeys }));

    [Fact]
    public async Task A_token_signed_elsewhere_by_the_current_key_validates_and_is_named_by_the_keys_thumbprint()
    {
        var key = SigningKeys.Generate();
        var keys = Keys(key);
        var token = AccessTokens.MintCustomer(key, Guid.NewGuid(), TimeSpan.FromMinutes(1));

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "ticketsale",
            ValidAudience = "ticketsale",
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            IssuerSigningKeys = keys.Published,
        });

        Assert.True(result.IsValid, result.Exception?.Message);
        Assert.Equal(AccessTokens.Thumbprint(key), keys.Current.KeyId);
        Assert.Equal(keys.Current.KeyId, ((JsonWebToken)result.SecurityToken).Kid);
    }

    [Fact]
    public void The_key_set_publishes_the_current_and_the_validation_keys_public_halves_once_each()
    {
        var current = SigningKeys.Generate();
        var retired = SigningKeys.Generate();
        var keys = Keys(current, AccessTokens.PublicKey(retired), current);

        Assert.Equal([AccessTokens.Thumbprint(current), AccessTokens.Thumbprint(retired)], keys.Published.Select(k => k.KeyId));
        var json = JsonSerializer.Serialize(keys.JsonWebKeySet());
        Assert.DoesNotContain("\"d\"", json, StringComparison.Ordinal);
        Assert.Contains(AccessTokens.Thumbprint(retired), json, StringComparison.Ordinal);
    }

    [Fact]
    public void A_public_key_another_curve_or_garbage_cannot_be_the_signing_key()
    {
        var key = SigningKeys.Generate();
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Throws<InvalidOperationException>(() => Keys(AccessTokens.PublicKey(key)));
        Assert.Throws<InvalidOperationException>(() => Keys(Convert.ToBase64String(p384.ExportPkcs8PrivateKey())));
        Assert.Throws<InvalidOperationException>(() => Keys("not a key"));
        Assert.Throws<InvalidOperationException>(() => Keys(""));
    }

    [Fact]
    public void A_pem_key_is_read_as_its_base64_form()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = ecdsa.ExportPkcs8PrivateKeyPem();

        Assert.Equal(AccessTokens.Thumbprint(Convert.ToBase64String(ecdsa.ExportPkcs8PrivateKey())), Keys(pem).Current.KeyId);
    }
}
