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
            if (OperatorAccess.BearsKey(http.Request, http.RequestServices.GetRequiredService<IConfiguration>()["Payments:ApiKey"]))
            {
                return await next(context);
            }

            http.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem("The payment gateway's API key is missing or wrong.", statusCode: StatusCodes.Status401Unauthorized);
        });
}
