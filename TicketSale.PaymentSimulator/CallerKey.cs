using System.Security.Cryptography;
using System.Text;

namespace TicketSale.PaymentSimulator;

/// <summary>
/// Like a real gateway, the simulator serves only callers bearing its API key (<c>Payments:ApiKey</c>): without it,
/// anyone who can reach the port could refund every order or void keys. With no key configured it serves nobody.
/// </summary>
internal static class CallerKey
{
    public static TBuilder RequireCallerKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var expected = http.RequestServices.GetRequiredService<IConfiguration>()["Payments:ApiKey"];
            if (IsValid(expected, http.Request.Headers.Authorization.ToString()))
            {
                return await next(context);
            }

            http.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem("The payment gateway's API key is missing or wrong.", statusCode: StatusCodes.Status401Unauthorized);
        });

    private static bool IsValid(string? expected, string authorization) =>
        expected is { Length: > 0 }
        && authorization.StartsWith("Bearer ", StringComparison.Ordinal)
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..]), Encoding.UTF8.GetBytes(expected));
}
