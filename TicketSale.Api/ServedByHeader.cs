namespace TicketSale.Api;

internal static class ServedByHeader
{
    public const string Name = "X-Served-By";

    /// <summary>Names the replica on every response, so load balancing and fail-over can be seen from outside.</summary>
    public static IApplicationBuilder UseServedByHeader(this IApplicationBuilder app)
    {
        var instance = app.ApplicationServices.GetRequiredService<ServiceInstance>();
        return app.Use((context, next) =>
        {
            context.Response.Headers[Name] = instance.Id;
            return next(context);
        });
    }
}
