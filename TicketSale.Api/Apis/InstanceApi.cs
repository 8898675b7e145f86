namespace TicketSale.Api.Apis;

public static class InstanceApi
{
    public static IEndpointRouteBuilder MapInstanceApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/instance")
            .WithTags("Instance")
            .MapGet("/", (ServiceInstance instance) => TypedResults.Ok(new InstanceResponse(instance.Id)));
        return app;
    }
}

public sealed record InstanceResponse(string Instance);
