using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What only operators and the services themselves may read — metrics, the detailed readiness report and the
/// <c>/internal</c> routes between services — needs the management key (<c>Management:Key</c>, the AppHost's generated
/// <c>management-key</c>) as a Bearer token. The public gateway serves the same paths, so without it a buyer could read
/// every service's metrics or a draft campaign. Probes keep their status codes without it.
/// </summary>
public static class OperatorAccess
{
    public const string KeySetting = "Management:Key";
    public const string InternalPath = "/internal";

    /// <summary>Whether the request bears the management key (never when none is configured).</summary>
    public static bool IsOperator(HttpContext context) =>
        BearsKey(context.Request, context.RequestServices.GetRequiredService<IConfiguration>()[KeySetting]);

    /// <summary>
    /// Whether the request's <c>Authorization: Bearer</c> is <paramref name="expected"/>, compared in constant time;
    /// never when no key is configured.
    /// </summary>
    public static bool BearsKey(HttpRequest request, string? expected)
    {
        var given = request.Headers.Authorization.ToString();
        return expected is { Length: > 0 }
            && given.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given["Bearer ".Length..]), Encoding.UTF8.GetBytes(expected));
    }

    /// <summary>Turns away, with 401, a request for <paramref name="paths"/> that does not bear the key.</summary>
    public static IApplicationBuilder RequireOperatorFor(this IApplicationBuilder app, params string[] paths) =>
        app.Use(async (context, next) =>
        {
            if (paths.Any(p => context.Request.Path.StartsWithSegments(p)) && !IsOperator(context))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return;
            }

            await next(context);
        });

    /// <summary>The key for a service's own calls to another's <c>/internal</c> routes.</summary>
    public static void Authorize(HttpRequestMessage request, IConfiguration configuration) =>
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", configuration[KeySetting]);
}
