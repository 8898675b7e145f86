using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.Http.Resilience;
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
        // Sign-ins and refreshes are not repeated by the client: a repeated wrong password counts twice, and a repeated
        // refresh presents a token the first attempt may already have rotated.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is the documented way to replace the default pipeline.
        builder.Services.AddHttpClient(ApiClientName, http => http.BaseAddress = new Uri(ApiGateway.ApiAddress))
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(o => o.Retry.DisableForUnsafeHttpMethods());
#pragma warning restore EXTEXP0001
        return builder;
    }

    public static IEndpointRouteBuilder MapBrowserSessions(this IEndpointRouteBuilder app)
    {
        var bff = app.MapGroup("/bff").WithTags("Browser sessions");
        bff.MapPost("/login", LoginAsync);
        bff.MapPost("/logout", LogoutAsync);
        bff.MapGet("/session", (ClaimsPrincipal user, HttpContext context, IAntiforgery antiforgery) =>
        {
            var tokens = antiforgery.GetAndStoreTokens(context);
            context.Response.Headers.CacheControl = "no-store";
            return TypedResults.Ok(new SessionResponse(user.Identity?.IsAuthenticated == true, user.FindFirstValue("email"), user.FindFirstValue("role"), tokens.RequestToken));
        });
        return app;
    }

    /// <summary>Signs in at the Api and keeps its tokens in the session cookie; answers like the Api when it refuses.</summary>
    private static async Task<IResult> LoginAsync(LoginBody body, HttpContext context, IAntiforgery antiforgery)
    {
        using var response = await PostToApiAsync(context, "/api/auth/login", body);
        if (!response.IsSuccessStatusCode)
        {
            CopyRetryAfter(response, context.Response);
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
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new SessionResponse(true, body.Email, (string)tokens["role"]!, xsrf.RequestToken));
    }

    /// <summary>Ends the session at the Api (its refresh token stops working everywhere) and deletes the cookie.</summary>
    private static async Task<IResult> LogoutAsync(HttpContext context, IAntiforgery antiforgery, ILoggerFactory loggers)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Antiforgery token missing or invalid");
        }

        if ((await context.AuthenticateAsync()).Properties?.GetTokenValue("refresh_token") is { } refreshToken)
        {
            try
            {
                using var revoked = await PostToApiAsync(context, "/api/auth/logout", new { refreshToken });
                if (revoked.StatusCode == System.Net.HttpStatusCode.TooManyRequests || (int)revoked.StatusCode >= 500)
                {
                    return Unavailable(context, revoked, "The session could not be ended; try again.");
                }
            }
            catch (Exception ex) when (IsTransient(ex, context))
            {
                // The cookie stays: signing out again must be able to end the session at the Api.
                loggers.CreateLogger(typeof(BrowserSessions)).LogWarning(ex, "Signing out failed: the Api did not answer");
                return Unavailable(context, null, "The session could not be ended; try again.");
            }
        }

        await context.SignOutAsync();
        return Results.NoContent();
    }

    /// <summary>
    /// A call from the Web to the Api on behalf of a browser, saying whose address it comes from (as the proxied
    /// requests do): the Api's per-address limits then count each browser, not the Web.
    /// </summary>
    private static async Task<HttpResponseMessage> PostToApiAsync(HttpContext context, string path, object body)
    {
        using var api = context.RequestServices.GetRequiredService<IHttpClientFactory>().CreateClient(ApiClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (context.Connection.RemoteIpAddress is { } client)
        {
            request.Headers.Add("X-Forwarded-For", client.ToString());
        }

        request.Headers.Add("X-Forwarded-Proto", context.Request.Scheme);
        return await api.SendAsync(request, context.RequestAborted);
    }

    private static void CopyRetryAfter(HttpResponseMessage from, HttpResponse to)
    {
        if (from.Headers.RetryAfter?.Delta is { } delta)
        {
            to.Headers.RetryAfter = ((int)Math.Ceiling(delta.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static bool IsTransient(Exception ex, HttpContext context) =>
        ex is HttpRequestException || (ex is TaskCanceledException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        || ex is Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException;

    /// <summary>The Api could not answer for the session now (busy, limited or down): 503, or its 429, with when to retry.</summary>
    private static IResult Unavailable(HttpContext context, HttpResponseMessage? answer, string detail)
    {
        var status = answer?.StatusCode == System.Net.HttpStatusCode.TooManyRequests ? StatusCodes.Status429TooManyRequests : StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "2";
        if (answer is not null)
        {
            CopyRetryAfter(answer, context.Response);
        }

        return Results.Problem(statusCode: status, title: status == StatusCodes.Status429TooManyRequests ? "Too many requests" : "Service unavailable", detail: detail);
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

            var session = await CurrentAccessTokenAsync(context);
            if (session.Unavailable is { } unavailable)
            {
                // Refreshing failed for now (the Api busy, limiting or down): the session is kept for the next try.
                await unavailable.ExecuteAsync(context);
                return;
            }

            if (session.AccessToken is not { } access)
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
    /// expire. No token when the Api ended the session (revoked, expired, or the account disabled); an answer to give
    /// instead when the Api could not refresh it now.
    /// </summary>
    private static async Task<(string? AccessToken, IResult? Unavailable)> CurrentAccessTokenAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync();
        var properties = result.Properties!;
        var access = properties.GetTokenValue("access_token");
        // Refreshed once less than a third of its life is left, so it never expires between here and the Api.
        if (access is not null && Lifetime(access) is var (issued, expires) && expires - DateTimeOffset.UtcNow > (expires - issued) / 3)
        {
            return (access, null);
        }

        HttpResponseMessage response;
        try
        {
            response = await PostToApiAsync(context, "/api/auth/refresh", new { refreshToken = properties.GetTokenValue("refresh_token") });
        }
        catch (Exception ex) when (IsTransient(ex, context))
        {
            return (null, Unavailable(context, null, "The session could not be renewed just now; try again."));
        }

        using (response)
        {
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                return (null, null);
            }

            if (!response.IsSuccessStatusCode)
            {
                return (null, Unavailable(context, response, "The session could not be renewed just now; try again."));
            }

            var tokens = (await response.Content.ReadFromJsonAsync<JsonObject>(context.RequestAborted))!;
            properties.UpdateTokenValue("access_token", (string)tokens["accessToken"]!);
            properties.UpdateTokenValue("refresh_token", (string)tokens["refreshToken"]!);
            await context.SignInAsync(result.Principal!, properties);
            return ((string)tokens["accessToken"]!, null);
        }
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
