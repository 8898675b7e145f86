using Microsoft.Extensions.Options;
using TicketSale.Core.Auth;

namespace TicketSale.Api.Apis;

/// <summary>
/// The public half of the token keys, as an OpenID provider publishes them: services that check access tokens (the
/// gateway) fetch the key set here instead of holding a key themselves.
/// </summary>
public static class KeysApi
{
    public const string JwksPath = "/.well-known/jwks.json";

    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var wellKnown = app.MapGroup("/.well-known").WithTags("Keys");
        wellKnown.MapGet("/openid-configuration", (HttpRequest request, IOptions<AuthOptions> auth) => TypedResults.Ok(new OpenIdConfiguration(
            auth.Value.Issuer, $"{request.Scheme}://{request.Host}{request.PathBase}{JwksPath}", [Microsoft.IdentityModel.Tokens.SecurityAlgorithms.EcdsaSha256])));
        wellKnown.MapGet("/jwks.json", (SigningKeys keys) => TypedResults.Ok(keys.JsonWebKeySet()));
        return app;
    }
}

public sealed record OpenIdConfiguration(
    [property: System.Text.Json.Serialization.JsonPropertyName("issuer")] string Issuer,
    [property: System.Text.Json.Serialization.JsonPropertyName("jwks_uri")] string JwksUri,
    [property: System.Text.Json.Serialization.JsonPropertyName("id_token_signing_alg_values_supported")] string[] SigningAlgorithms);
