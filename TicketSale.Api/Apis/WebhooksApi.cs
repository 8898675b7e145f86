using Microsoft.AspNetCore.Http.HttpResults;
using TicketSale.Api.Sales;
using TicketSale.Core.Data;

namespace TicketSale.Api.Apis;

/// <summary>Organizers' webhooks: subscriptions, their delivery log, and sending a dead letter again.</summary>
public static class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var webhooks = app.MapGroup("/api/admin/webhooks").WithTags("Webhooks").RequireAuthorization(TokenValidation.AdminPolicy).FromAllowedNetworks().Audited();
        webhooks.MapGet("/", async (Webhooks hooks, CancellationToken cancellationToken) => TypedResults.Ok(await hooks.ListAsync(cancellationToken)));
        webhooks.MapPost("/", SubscribeAsync);
        webhooks.MapDelete("/{id:guid}", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, Webhooks hooks, CancellationToken cancellationToken) =>
            await hooks.UnsubscribeAsync(id, cancellationToken) ? TypedResults.NoContent() : Problems.NotFound("No such webhook."));
        webhooks.MapGet("/{id:guid}/deliveries", async Task<Results<Ok<IReadOnlyList<WebhookDeliveryView>>, ProblemHttpResult>> (
            Guid id, WebhookDeliveryStatus? status, Webhooks hooks, CancellationToken cancellationToken) =>
            await hooks.DeliveriesAsync(id, status, cancellationToken) is { } deliveries ? TypedResults.Ok(deliveries) : Problems.NotFound("No such webhook."));
        webhooks.MapPost("/deliveries/{deliveryId:long}/redeliver", async Task<Results<Accepted, ProblemHttpResult>> (
            long deliveryId, Webhooks hooks, CancellationToken cancellationToken) =>
            await hooks.RedeliverAsync(deliveryId, cancellationToken) ? TypedResults.Accepted((string?)null) : Problems.NotFound("No such dead-lettered delivery."));
        return app;
    }

    private static async Task<Results<Created<WebhookView>, ValidationProblem>> SubscribeAsync(WebhookRequest request, Webhooks hooks, CancellationToken cancellationToken) =>
        await hooks.SubscribeAsync(request, cancellationToken) switch
        {
            { Value: { } view } => TypedResults.Created($"/api/admin/webhooks/{view.Id}", view),
            var refused => Problems.Invalid(refused.Refusal!.Field!, refused.Refusal.Detail),
        };
}
