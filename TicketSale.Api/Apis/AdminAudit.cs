namespace TicketSale.Api.Apis;

/// <summary>Every admin request that changes something is logged as a security event: who, what, and the answer.</summary>
internal static class AdminAudit
{
    public static TBuilder Audited<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var result = await next(context);
            var http = context.HttpContext;
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
            {
                var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : http.Response.StatusCode;
                var admin = Guid.TryParse(http.User.FindFirst("sub")?.Value, out var id) ? id : Guid.Empty;
                var path = http.Request.Path.ToString();
                http.RequestServices.GetRequiredService<SecurityEvents>().AdminChange(admin, http.Request.Method, path, status, HttpRateLimits.ClientAddress(http));
            }

            return result;
        });
}
