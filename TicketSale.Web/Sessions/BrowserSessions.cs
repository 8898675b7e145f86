using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using StackExchange.Redis;
using TicketSale.Web.Gateway;

namespace TicketSale.Web.Sessions;

/// <summary>
/// Browser sessions (backend for frontend): the Api's tokens live in an encrypted, HttpOnly cookie that scripts
/// cannot read, and the gateway turns the cookie into a Bearer header. Because the browser sends that cookie by
/// itself, every cookie-authenticated request that changes state must carry an antiforgery token.
/// </summary>
public static class BrowserSessions
{
    public const string CookieName = "ts-session";
    public const string AntiforgeryHeader = "X-XSRF-TOKEN";
    public const string ApiClientName = "api";

    public static WebApplicationBuilder AddBrowserSessions(this WebApplicationBuilder builder)
    {
        // Keys in Redis: any Web replica can read a cookie another one wrote.
        builder.Services.AddDataProtection().SetApplicationName("TicketSale.Web");
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IConnectionMultiplexer>((keys, redis) =>
            keys.XmlRepository = new RedisXmlRepository(() => redis.GetDatabase(), "ts:dataprotection:keys"));
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = CookieName;
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                // Secure whenever the request is (always in production, behind HTTPS); plain HTTP only on a dev machine.
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.Cookie.Path = "/";
                cookie.SlidingExpiration = true;
                cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
                // An API caller gets a status code, not a redirect to a login page.
                cookie.Events.OnRedirectToLogin = context => { context.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
                cookie.Events.OnRedirectToAccessDenied = context => { context.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
            });
        builder.Services.AddAuthorization();
        builder.Services.AddAntiforgery(o =>
        {
            o.HeaderName = AntiforgeryHeader;
            o.Cookie.Name = "ts-xsrf";
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        builder.Services.AddHttpClient(ApiClientName, http => http.BaseAddress = new Uri(ApiGateway.ApiAddress));
        return builder;
    }

    public static IEndpointRouteBuilder MapBrowserSessions(this IEndpointRouteBuilder app)
    {
        var bff = app.MapGroup("/bff").WithTags("Browser sessions");
        bff.MapPost("/login", LoginAsync);
        bff.MapPost("/logout", async (HttpContext context, IAntiforgery antiforgery) =>
        {
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Antiforgery token missing or invalid");
            }

            await context.SignOutAsync();
            return Results.NoContent();
        });
        bff.MapGet("/session", (ClaimsPrincipal user, HttpContext context, IAntiforgery antiforgery) =>
        {
            var tokens = antiforgery.GetAndStoreTokens(context);
            return TypedResults.Ok(new SessionResponse(user.Identity?.IsAuthenticated == true, user.FindFirstValue("email"), user.FindFirstValue("role"), tokens.RequestToken));
        });
        return app;
    }

    /// <summary>Signs in at the Api and keeps its tokens in the session cookie; answers like the Api when it refuses.</summary>
    private static async Task<IResult> LoginAsync(LoginBody body, HttpContext context, IHttpClientFactory clients, IAntiforgery antiforgery)
    {
        using var api = clients.CreateClient(ApiClientName);
        using var response = await api.PostAsJsonAsync("/api/auth/login", body, context.RequestAborted);
        if (!response.IsSuccessStatusCode)
        {
            return Results.Problem(statusCode: (int)response.StatusCode, title: "Sign-in failed",
                detail: (await response.Content.ReadFromJsonAsync<JsonObject>(context.RequestAborted))?["detail"]?.GetValue<string>());
        }

        var tokens = (await response.Content.ReadFromJsonAsync<JsonObject>(context.RequestAborted))!;
        var identity = new ClaimsIdentity(
            [new Claim("email", body.Email), new Claim("role", (string)tokens["role"]!)], CookieAuthenticationDefaults.AuthenticationScheme, "email", "role");
        var properties = new AuthenticationProperties();
        properties.StoreTokens(
        [
            new AuthenticationToken { Name = "access_token", Value = (string)tokens["accessToken"]! },
            new AuthenticationToken { Name = "refresh_token", Value = (string)tokens["refreshToken"]! },
        ]);
        await context.SignInAsync(new ClaimsPrincipal(identity), properties);
        context.User = new ClaimsPrincipal(identity);
        // A fresh antiforgery token bound to the new identity.
        var xsrf = antiforgery.GetAndStoreTokens(context);
        return TypedResults.Ok(new SessionResponse(true, body.Email, (string)tokens["role"]!, xsrf.RequestToken));
    }

    /// <summary>
    /// In front of the Api's routes (proxied, or the waiting room answered here): a request that rides on the session
    /// cookie gets the Api's Bearer token, and if it changes state it must prove it came from our own pages. Requests
    /// bearing their own token pass untouched.
    /// </summary>
    public static async Task ForwardSessionAsync(HttpContext context, Func<Task> next)
    {
        if (context.Request.Headers.Authorization.Count == 0 && context.User.Identity?.IsAuthenticated == true)
        {
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method))
            {
                var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
                if (!await antiforgery.IsRequestValidAsync(context))
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context,
                        ProblemDetails = { Status = 403, Title = "Antiforgery token missing or invalid", Detail = $"Send the token from /bff/session in the {AntiforgeryHeader} header." },
                    });
                    return;
                }
            }

            if (await CurrentAccessTokenAsync(context) is not { } access)
            {
                await context.SignOutAsync();
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            context.Request.Headers.Authorization = "Bearer " + access;
        }

        await next();
    }

    /// <summary>
    /// The session's access token, refreshed through the Api (which rotates the refresh token) when it is about to
    /// expire; null when the Api no longer accepts the session (revoked, or the account was locked).
    /// </summary>
    private static async Task<string?> CurrentAccessTokenAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync();
        var properties = result.Properties!;
        var access = properties.GetTokenValue("access_token");
        // Refreshed once less than a third of its life is left, so it never expires between here and the Api.
        if (access is not null && Lifetime(access) is var (issued, expires) && expires - DateTimeOffset.UtcNow > (expires - issued) / 3)
        {
            return access;
        }

        using var api = context.RequestServices.GetRequiredService<IHttpClientFactory>().CreateClient(ApiClientName);
        using var response = await api.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = properties.GetTokenValue("refresh_token") }, context.RequestAborted);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var tokens = (await response.Content.ReadFromJsonAsync<JsonObject>(context.RequestAborted))!;
        properties.UpdateTokenValue("access_token", (string)tokens["accessToken"]!);
        properties.UpdateTokenValue("refresh_token", (string)tokens["refreshToken"]!);
        await context.SignInAsync(result.Principal!, properties);
        return (string)tokens["accessToken"]!;
    }

    /// <summary>
    /// The "iat" and "exp" of a JWT (zero when unreadable, which forces a refresh). Its signature is the Api's
    /// business; the Web only needs to know when to refresh.
    /// </summary>
    private static (DateTimeOffset Issued, DateTimeOffset Expires) Lifetime(string jwt)
    {
        var payload = jwt.Split('.') is [_, var body, _] ? body.Replace('-', '+').Replace('_', '/') : "";
        payload += new string('=', (4 - (payload.Length % 4)) % 4);
        try
        {
            var claims = JsonNode.Parse(Convert.FromBase64String(payload));
            return (DateTimeOffset.FromUnixTimeSeconds(claims?["iat"]?.GetValue<long>() ?? 0), DateTimeOffset.FromUnixTimeSeconds(claims?["exp"]?.GetValue<long>() ?? 0));
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return (DateTimeOffset.MinValue, DateTimeOffset.MinValue);
        }
    }
}

public sealed record LoginBody(string Email, string Password);

public sealed record SessionResponse(bool SignedIn, string? Email, string? Role, string? AntiforgeryToken);
