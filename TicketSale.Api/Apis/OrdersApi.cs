using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TicketSale.Api.Infrastructure;
using TicketSale.Api.Sales;
using TicketSale.Api.Tickets;
using TicketSale.Core.Data;
using TicketSale.Core.Tickets;

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
        orders.MapGet("/{id:guid}/tickets/{ticketId:guid}", GetTicketAsync);
        orders.MapPost("/{id:guid}/cancel", CancelAsync);
        return app;
    }

    private static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetAsync(Guid id, ClaimsPrincipal user, TicketSaleDbContext db) =>
        await db.Orders.AsNoTracking().Include(o => o.Tickets).FirstOrDefaultAsync(o => o.Id == id && o.UserId == user.UserId()) is { } order
            ? TypedResults.Ok(OrderResponse.From(order))
            : Problems.NotFound("No such order.");

    /// <summary>One ticket as the buyer shows it at the door: what it is for and its signed code (none once cancelled).</summary>
    private static async Task<Results<Ok<TicketPassResponse>, ProblemHttpResult>> GetTicketAsync(Guid id, Guid ticketId, ClaimsPrincipal user,
        TicketSaleDbContext db, TicketCodes codes, CampaignCatalog catalog, CancellationToken cancellationToken)
    {
        var ticket = await db.Tickets.AsNoTracking()
            .Where(t => t.Id == ticketId && t.OrderId == id)
            .Join(db.Orders.Where(o => o.Id == id && o.UserId == user.UserId()), t => new { t.OrderId, t.CampaignId }, o => new { OrderId = o.Id, o.CampaignId }, (t, o) => t)
            .FirstOrDefaultAsync(cancellationToken);
        if (ticket is null || await catalog.GetAsync(ticket.CampaignId, cancellationToken) is not { } campaign)
        {
            return Problems.NotFound("No such ticket among your orders.");
        }

        return TypedResults.Ok(new TicketPassResponse(ticket.Id, id, campaign.Id, campaign.Name, campaign.EventAt,
            CheckIns.Place(campaign, ticket.SeatIndex, ticket.GeneralAdmissionCategoryId),
            ticket.PriceCents, ticket.Active, ticket.CheckedInAt, ticket.Active ? codes.Issue(campaign.Id, ticket.Id) : null));
    }

    private static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> CancelAsync(
        Guid id, ClaimsPrincipal user, OrderCancellation cancellation, HttpContext context, CancellationToken cancellationToken)
    {
        var (order, refusal) = await cancellation.CancelAsync(id, user.UserId(), cancellationToken);
        return refusal is null ? TypedResults.Ok(OrderResponse.From(order!)) : refusal.ToProblem(context);
    }
}

public sealed record OrderResponse(Guid Id, Guid CampaignId, string Status, long TotalCents, DateTimeOffset CreatedAt, IReadOnlyList<TicketResponse> Tickets)
{
    public static OrderResponse From(Order o) => new(o.Id, o.CampaignId, o.Status.ToString(), o.TotalCents, o.CreatedAt,
        o.Tickets.Select(t => new TicketResponse(t.Id, t.SeatIndex, t.GeneralAdmissionCategoryId, t.PriceCents, t.Active)).ToList());
}

public sealed record TicketResponse(Guid Id, int? SeatIndex, Guid? GeneralAdmissionCategoryId, long PriceCents, bool Active);

/// <param name="Code">The signed code its QR code shows; null once the ticket is cancelled.</param>
public sealed record TicketPassResponse(Guid Id, Guid OrderId, Guid CampaignId, string CampaignName, DateTimeOffset EventAt, string Place,
    long PriceCents, bool Active, DateTimeOffset? CheckedInAt, string? Code);
