using System.Data;
using Microsoft.EntityFrameworkCore;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Payments;

namespace TicketSale.Api.Sales;

/// <summary>
/// Cancels a buyer's order where the campaign allows it: refund first (idempotent, so a retry after a failure below
/// refunds nothing twice), then the order and its tickets in one transaction, then the seats back on sale.
/// </summary>
public sealed class OrderCancellation(TicketSaleDbContext db, CampaignCatalog catalog, PaymentGatewayClient payments, SeatInventory inventory,
    TimeProvider time, SecurityEvents events)
{
    public async Task<Outcome<Order>> CancelAsync(Guid id, Guid userId, CancellationToken cancellationToken)
    {
        var order = await db.Orders.Include(o => o.Tickets).FirstOrDefaultAsync(o => o.Id == id && o.UserId == userId, cancellationToken);
        if (order is null)
        {
            return Refusal.NotFound("No such order.");
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
            return order;
        }

        var campaign = await catalog.GetAsync(order.CampaignId, cancellationToken);
        if (campaign is not { CancellationAllowed: true } || campaign.EventAt <= time.GetUtcNow())
        {
            return new Refusal(RefusalReason.NotCancellable, "This order cannot be cancelled.");
        }

        try
        {
            var refunded = await payments.RefundAsync(order.Id, cancellationToken);
            events.Refund(order.Id, refunded ? "refunded" : "nothing was charged", "the buyer cancelled the order");
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Polly.CircuitBreaker.BrokenCircuitException
            or TaskCanceledException { InnerException: TimeoutException })
        {
            return new Refusal(RefusalReason.Unavailable, "The payment gateway is unavailable; the order is unchanged. Try again shortly.");
        }

        OutboxMessage? told = null;
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

            await PromoBudget.ReleaseAsync(db.Database, order.Id, cancellationToken);
            // One instance, however often the strategy runs this again: a retried transaction tells the buyer once.
            told ??= OutboxMessage.For(OrderEvents.Cancelled, order.CampaignId, order.Id, order.CancelledAt!.Value);
            db.OutboxMessages.Add(told);
            await db.Payments.Where(p => p.PurchaseId == order.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(p => p.Status, PaymentStatus.Refunded).SetProperty(p => p.RefundedAt, time.GetUtcNow()), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });

        await ReturnToSaleAsync();
        return order;
    }
}
