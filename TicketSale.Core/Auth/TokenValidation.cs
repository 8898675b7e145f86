using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TicketSale.Core.Data;

namespace TicketSale.Core.Auth;

/// <summary>
/// Checking the Api's access tokens (JWT bearer) and the roles' policies: in the Api, and in the gateway, which
/// answers the waiting room itself. Issuing them is the Api's alone.
/// </summary>
public static class TokenValidation
{
    public const string AdminPolicy = "admin";
    public const string CustomerPolicy = "customer";
    public const string StaffPolicy = "staff";

    /// <summary>The HTTP client (service discovery and resilience from ServiceDefaults) a validator fetches the Api's key set with.</summary>
    public const string KeysHttpClient = "token-keys";

    /// <summary>
    /// The JWT bearer scheme and the role policies. Where bearer tokens are the <paramref name="defaultScheme"/> (the
    /// Api), the authentication middleware checks a request's token and the policies judge the user it found. Where
    /// another scheme is the default (the gateway's session cookie), the policies name the bearer scheme, so the
    /// authorization middleware authenticates with it. A policy naming the default scheme as well would have every
    /// request authenticated twice, and a second principal and ticket built: a sixth of the bytes the Api allocated
    /// per hold (an allocation profile of api-0 under `./bench.sh --scenarios hot --connections 256`).
    /// </summary>
    public static IServiceCollection AddTicketSaleTokenValidation(this IServiceCollection services, bool defaultScheme)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var authentication = defaultScheme ? services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme) : services.AddAuthentication();
        authentication.AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, ValidatedTokenCache, IServiceProvider>((jwt, auth, cache, services) =>
            {
                jwt.MapInboundClaims = false;
                // Nothing reads the token back from the authentication properties.
                jwt.SaveToken = false;
                jwt.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        // Looked up in place: the token copied out of the header (about 1 KB) was a twentieth of what
                        // the Api allocated per hold, for a token already validated (allocation profile, as above).
                        var token = BearerToken(context.Request.Headers.Authorization.ToString());
                        if (token.IsEmpty)
                        {
                            return Task.CompletedTask;
                        }

                        if (cache.TryGet(token, out var principal, out var expires))
                        {
                            context.Principal = principal;
                            context.Properties.ExpiresUtc = expires;
                            context.Success();
                        }
                        else
                        {
                            context.Token = token.ToString();
                        }

                        return Task.CompletedTask;
                    },
                    OnTokenValidated = context =>
                    {
                        if (context.SecurityToken is JsonWebToken validated && context.Principal is { } principal)
                        {
                            context.Principal = cache.Add(validated.EncodedToken, principal, new DateTimeOffset(validated.ValidTo, TimeSpan.Zero));
                        }

                        return Task.CompletedTask;
                    },
                };
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = auth.Value.Issuer,
                    ValidAudience = auth.Value.Issuer,
                    // ES256 only: a token claiming HS256 (keyed with the public key) or "none" is refused whatever it holds.
                    ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                    NameClaimType = "sub",
                    RoleClaimType = "role",
                    // Replicas keep time with NTP; a long skew would only stretch every token.
                    ClockSkew = TimeSpan.FromSeconds(5),
                };
                if (services.GetService<SigningKeys>() is { } keys)
                {
                    // The issuer checks its tokens with its own keys.
                    jwt.TokenValidationParameters.IssuerSigningKeys = keys.Published;
                }
                else if (auth.Value.KeysMetadataAddress is { Length: > 0 } metadata)
                {
                    // Everyone else fetches the public keys the Api publishes, and again when a token names a key it
                    // does not know yet (at most every RefreshInterval).
                    jwt.MetadataAddress = metadata;
                    // Plain HTTP only inside the deployment (a service-discovery name or loopback).
                    jwt.RequireHttpsMetadata = !IsInternal(new Uri(metadata));
                    jwt.Backchannel = services.GetRequiredService<IHttpClientFactory>().CreateClient(KeysHttpClient);
                    jwt.AutomaticRefreshInterval = auth.Value.KeysRefreshInterval;
                    jwt.RefreshInterval = TimeSpan.FromSeconds(Math.Min(30, auth.Value.KeysRefreshInterval.TotalSeconds));
                }
                else
                {
                    throw new InvalidOperationException("Access tokens cannot be checked: configure Auth:SigningKey (the Api) or Auth:KeysMetadataAddress.");
                }
            });
        string[] policySchemes = defaultScheme ? [] : [JwtBearerDefaults.AuthenticationScheme];
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(policySchemes).RequireRole(Roles.Admin))
            .AddPolicy(CustomerPolicy, p => p.AddAuthenticationSchemes(policySchemes).RequireRole(Roles.Customer))
            .AddPolicy(StaffPolicy, p => p.AddAuthenticationSchemes(policySchemes).RequireRole(Roles.Staff, Roles.Admin));
        services.AddSingleton<ValidatedTokenCache>();
        services.AddHttpClient(KeysHttpClient);
        services.AddHostedService<SigningKeysWarmUp>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>The token of an "Authorization: Bearer" header (empty when there is none), read the way the JWT bearer handler reads it.</summary>
    private static ReadOnlySpan<char> BearerToken(string authorization) =>
        authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization.AsSpan("Bearer ".Length).Trim() : default;

    /// <summary>A service-discovery name (no dot: "http://api") or a loopback address: traffic that stays inside the deployment.</summary>
    private static bool IsInternal(Uri address) => address.IsLoopback || !address.Host.Contains('.', StringComparison.Ordinal);

    public static Guid UserId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue("sub")!);

    /// <summary>The access token's claim that the account's e-mail address is confirmed (set when it was issued).</summary>
    public const string EmailVerifiedClaim = "email_verified";

    public static bool HasVerifiedEmail(this ClaimsPrincipal user) =>
        string.Equals(user.FindFirstValue(EmailVerifiedClaim), "true", StringComparison.OrdinalIgnoreCase);
}
