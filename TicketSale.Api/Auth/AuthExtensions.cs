using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TicketSale.Core.Data;

namespace TicketSale.Api.Auth;

public static class AuthExtensions
{
    public const string AdminPolicy = "admin";
    public const string CustomerPolicy = "customer";

    public static IHostApplicationBuilder AddTicketSaleAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>()
            .Bind(builder.Configuration.GetSection(AuthOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, ValidatedTokenCache>((jwt, auth, cache) =>
            {
                jwt.MapInboundClaims = false;
                // Nothing reads the token back from the authentication properties.
                jwt.SaveToken = false;
                jwt.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        if (BearerToken(context.Request) is { } token)
                        {
                            context.Token = token;
                            if (cache.TryGet(token, out var principal, out var expires))
                            {
                                context.Principal = principal;
                                context.Properties.ExpiresUtc = expires;
                                context.Success();
                            }
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
                    IssuerSigningKey = TokenService.SigningKey(auth.Value),
                    NameClaimType = "sub",
                    RoleClaimType = "role",
                    // Replicas keep time with NTP; a long skew would only stretch every token.
                    ClockSkew = TimeSpan.FromSeconds(5),
                };
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.RequireRole(Roles.Admin))
            .AddPolicy(CustomerPolicy, p => p.RequireRole(Roles.Customer));

        builder.Services.AddSingleton<ValidatedTokenCache>();
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        return builder;
    }

    /// <summary>The token of an "Authorization: Bearer" header, read the way the JWT bearer handler reads it.</summary>
    private static string? BearerToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization["Bearer ".Length..].Trim() is { Length: > 0 } token
            ? token
            : null;
    }

    public static Guid UserId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue("sub")!);

    /// <summary>Creates the first admin from configuration when no account has that e-mail yet.</summary>
    public static async Task SeedAdminAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (options.AdminEmail is null || options.AdminPassword is null)
        {
            return;
        }

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        var email = options.AdminEmail.Trim().ToLowerInvariant();
        if (await db.Users.AnyAsync(u => u.Email == email))
        {
            return;
        }

        var admin = new User { Id = Guid.CreateVersion7(), Email = email, PasswordHash = "", Role = Roles.Admin, CreatedAt = DateTimeOffset.UtcNow };
        admin.PasswordHash = scope.ServiceProvider.GetRequiredService<IPasswordHasher<User>>().HashPassword(admin, options.AdminPassword);
        db.Users.Add(admin);
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Another replica seeded it at the same moment.
        }
    }
}
