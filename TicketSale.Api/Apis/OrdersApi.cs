using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TicketSale.Api.Infrastructure;
using TicketSale.Api.Sales;
using TicketSale.Core.Data;

namespace TicketSale.Api.Apis;

public static class OrdersApi
{
    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var orders = app.MapGroup("/api/orders").WithTags("Orders").RequireAuthorization(TokenValidation.CustomerPolicy);
        // The list may trail a purchase by the standby's lag (Database:Replica:MaxLag at most); one order, opened from the
        // purchase that made it, is read from the primary.
        orders.MapGet("/", async (ClaimsPrincipal user, StaleReads reads, CancellationToken cancellationToken) => TypedResults.Ok(await reads.QueryAsync(
            (db, ct) => db.Orders.AsNoTracking()
                .Where(o => o.UserId == user.UserId())
                .OrderByDescending(o => o.CreatedAt)
                .Take(100)
                .Include(o => o.Tickets)
                .Select(o => OrderResponse.From(o))
                .ToListAsync(ct),
            cancellationToken)));
        orders.MapGet("/{id:guid}", GetAsync);
        orders.MapPost("/{id:guid}/cancel", CancelAsync);
        return app;
    }

    private static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetAsync(Guid id, ClaimsPrincipal user, TicketSaleDbContext db) =>
        await db.Orders.AsNoTracking().Include(o => o.Tickets).FirstOrDefaultAsync(o => o.Id == id && o.UserId == user.UserId()) is { } order
            ? TypedResults.Ok(OrderResponse.From(order))
            : Problems.NotFound("No such order.");

    private static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> CancelAsync(
        Guid id, ClaimsPrincipal user, OrderCancellation cancellation, HttpContext context, CancellationToken cancellationToken)
    {
        var (order, refusal) = await cancellation.CancelAsync(id, user.UserId(), cancellationToken);
        return refusal switch
        {
            null => TypedResults.Ok(OrderResponse.From(order!)),
            { Reason: RefusalReason.NotFound } => Problems.NotFound(refusal.Detail),
            { Reason: RefusalReason.NotCancellable } => Problems.Conflict(refusal.Detail, "cancellation-not-allowed"),
            { Reason: RefusalReason.Unavailable } => Problems.Unavailable(context, refusal.Detail, 10),
            _ => throw new InvalidOperationException($"No answer for {refusal}."),
        };
    }
}

public sealed record OrderResponse(Guid Id, Guid CampaignId, string Status, long TotalCents, DateTimeOffset CreatedAt, IReadOnlyList<TicketResponse> Tickets)
{
    public static OrderResponse From(Order o) => new(o.Id, o.CampaignId, o.Status.ToString(), o.TotalCents, o.CreatedAt,
        o.Tickets.Select(t => new TicketResponse(t.Id, t.SeatIndex, t.GeneralAdmissionCategoryId, t.PriceCents, t.Active)).ToList());
}

public sealed record TicketResponse(Guid Id, int? SeatIndex, Guid? GeneralAdmissionCategoryId, long PriceCents, bool Active);
