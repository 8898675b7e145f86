using System.Data;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TicketSale.Api.Sales;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Payments;

namespace TicketSale.Api.Apis;

public static class OrdersApi
{
    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var orders = app.MapGroup("/api/orders").WithTags("Orders").RequireAuthorization(TokenValidation.CustomerPolicy);
        orders.MapGet("/", async (ClaimsPrincipal user, TicketSaleDbContext db) => TypedResults.Ok(await db.Orders.AsNoTracking()
            .Where(o => o.UserId == user.UserId())
            .OrderByDescending(o => o.CreatedAt)
            .Take(100)
            .Include(o => o.Tickets)
            .Select(o => OrderResponse.From(o))
            .ToListAsync()));
        orders.MapGet("/{id:guid}", GetAsync);
        orders.MapPost("/{id:guid}/cancel", CancelAsync);
        return app;
    }

    private static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetAsync(Guid id, ClaimsPrincipal user, TicketSaleDbContext db) =>
        await db.Orders.AsNoTracking().Include(o => o.Tickets).FirstOrDefaultAsync(o => o.Id == id && o.UserId == user.UserId()) is { } order
            ? TypedResults.Ok(OrderResponse.From(order))
            : Problems.NotFound("No such order.");

    /// <summary>
    /// Cancels an order where the campaign allows it: refund first (idempotent, so a retry after a failure below
    /// refunds nothing twice), then the order and its tickets in one transaction, then the seats back on sale.
    /// </summary>
    private static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> CancelAsync(
        Guid id, ClaimsPrincipal user, TicketSaleDbContext db, CampaignCatalog catalog, PaymentGatewayClient payments,
        SeatInventory inventory, TimeProvider time, SecurityEvents events, HttpContext context, CancellationToken cancellationToken)
    {
        var order = await db.Orders.Include(o => o.Tickets).FirstOrDefaultAsync(o => o.Id == id && o.UserId == user.UserId(), cancellationToken);
        if (order is null)
        {
            return Problems.NotFound("No such order.");
        }

        // The purchase's hold: when the cancellation overtakes the confirmation on its way to Redis, the seats are
        // still the hold's there.
        var holdId = await db.Purchases.AsNoTracking().Where(p => p.Id == order.Id).Select(p => p.HoldId).FirstAsync(cancellationToken);
        var seats = order.Tickets.Where(t => t.SeatIndex is not null).Select(t => t.SeatIndex!.Value).ToList();
        // An order comes from one purchase: its seats and at most one general-admission category.
        var generalAdmission = order.Tickets.Where(t => t.GeneralAdmissionCategoryId is not null).GroupBy(t => t.GeneralAdmissionCategoryId!.Value)
            .Select(g => (Category: g.Key, Count: g.Count())).SingleOrDefault();
        Task ReturnToSaleAsync() => inventory.ReturnAsync(order.CampaignId, order.Id, holdId, order.UserId,
            generalAdmission.Count > 0 ? generalAdmission.Category : null, generalAdmission.Count, seats);

        if (order.Status == OrderStatus.Cancelled)
        {
            // A retry: returns the tickets if the first attempt stopped before it did (once only, in Redis).
            await ReturnToSaleAsync();
            return TypedResults.Ok(OrderResponse.From(order));
        }

        var campaign = await catalog.GetAsync(order.CampaignId, cancellationToken);
        if (campaign is not { CancellationAllowed: true } || campaign.EventAt <= time.GetUtcNow())
        {
            return Problems.Conflict("This order cannot be cancelled.", "cancellation-not-allowed");
        }

        try
        {
            var refunded = await payments.RefundAsync(order.Id, cancellationToken);
            events.Refund(order.Id, refunded ? "refunded" : "nothing was charged", "the buyer cancelled the order");
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Polly.CircuitBreaker.BrokenCircuitException
            or TaskCanceledException { InnerException: TimeoutException })
        {
            return Problems.Unavailable(context, "The payment gateway is unavailable; the order is unchanged. Try again shortly.", 10);
        }

        // Read committed is enough: the order's version column refuses a concurrent second cancellation, and the
        // general-admission rows' version columns make the "sold" decrements exact.
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            order.Status = OrderStatus.Cancelled;
            order.CancelledAt = time.GetUtcNow();
            order.Version++;
            foreach (var ticket in order.Tickets)
            {
                ticket.Active = false;
            }

            if (generalAdmission.Count > 0)
            {
                var (category, count) = generalAdmission;
                await db.GeneralAdmissionCategories.Where(g => g.Id == category)
                    .ExecuteUpdateAsync(u => u.SetProperty(g => g.Sold, g => g.Sold - count).SetProperty(g => g.Version, g => g.Version + 1), cancellationToken);
            }

            await db.Payments.Where(p => p.PurchaseId == order.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(p => p.Status, PaymentStatus.Refunded).SetProperty(p => p.RefundedAt, time.GetUtcNow()), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });

        await ReturnToSaleAsync();
        return TypedResults.Ok(OrderResponse.From(order));
    }
}

public sealed record OrderResponse(Guid Id, Guid CampaignId, string Status, long TotalCents, DateTimeOffset CreatedAt, IReadOnlyList<TicketResponse> Tickets)
{
    public static OrderResponse From(Order o) => new(o.Id, o.CampaignId, o.Status.ToString(), o.TotalCents, o.CreatedAt,
        o.Tickets.Select(t => new TicketResponse(t.Id, t.SeatIndex, t.GeneralAdmissionCategoryId, t.PriceCents, t.Active)).ToList());
}

public sealed record TicketResponse(Guid Id, int? SeatIndex, Guid? GeneralAdmissionCategoryId, long PriceCents, bool Active);
