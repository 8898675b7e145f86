using System.Data;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Polly.CircuitBreaker;
using StackExchange.Redis;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;
using TicketSale.Core.Payments;
using Order = TicketSale.Core.Data.Order;

namespace TicketSale.Worker.Purchases;

public enum ProcessingResult
{
    /// <summary>Decided (confirmed or failed) and recorded: acknowledge.</summary>
    Done,

    /// <summary>The payment gateway is unavailable: come back after a delay, not in a hot loop.</summary>
    RetryLater,
}

/// <summary>
/// Turns an accepted purchase into an order, or into a clean failure with the seats released and any charge refunded.
/// Safe to run more than once for the same message: the order's primary key is the purchase id, the ticket table's
/// unique index allows one active ticket per seat, and the gateway is idempotent on the purchase id.
/// </summary>
public sealed class PurchaseProcessor(
    TicketSaleDbContext db,
    SeatInventory inventory,
    PaymentGatewayClient payments,
    IConnectionMultiplexer redis,
    TimeProvider time,
    WorkerMetrics metrics,
    ILogger<PurchaseProcessor> logger)
{
    public async Task<ProcessingResult> ProcessAsync(PurchaseRequested purchase, CancellationToken cancellationToken)
    {
        if (await db.Purchases.AsNoTracking().FirstOrDefaultAsync(p => p.Id == purchase.PurchaseId, cancellationToken) is { } decided)
        {
            // A redelivery of a purchase already decided (the ack was lost): make sure Redis agrees, then done.
            await ApplyOutcomeToRedisAsync(purchase, decided.Status, decided.FailureReason);
            return ProcessingResult.Done;
        }

        if (time.GetUtcNow() > purchase.Deadline)
        {
            await FailAsync(purchase, "The purchase could not be completed in time.", cancellationToken);
            return ProcessingResult.Done;
        }

        if (await SeatsWentElsewhereAsync(purchase))
        {
            await FailAsync(purchase, "The hold expired and its seats were taken.", cancellationToken);
            return ProcessingResult.Done;
        }

        try
        {
            await payments.ChargeAsync(purchase.PurchaseId, purchase.AmountCents, cancellationToken);
        }
        catch (PaymentDeclinedException ex)
        {
            await FailAsync(purchase, ex.Message, cancellationToken);
            return ProcessingResult.Done;
        }
        catch (Exception ex) when (IsGatewayUnavailable(ex))
        {
            logger.LogWarning("Payment gateway unavailable for purchase {PurchaseId}: {Reason}", purchase.PurchaseId, ex.Message);
            metrics.PaymentDeferred();
            return ProcessingResult.RetryLater;
        }

        var outcome = await RecordOrderAsync(purchase, cancellationToken);
        if (outcome is { } failure)
        {
            await FailAsync(purchase, failure, cancellationToken);
            return ProcessingResult.Done;
        }

        await ApplyOutcomeToRedisAsync(purchase, PurchaseStatus.Confirmed, null);
        metrics.PurchaseConfirmed(purchase.Seats.Count + (purchase.GeneralAdmissionCategoryId is null ? 0 : purchase.Quantity));
        return ProcessingResult.Done;
    }

    /// <summary>
    /// Fails a purchase for good: the failure is recorded first (so a crash here cannot lose it), then the charge, if
    /// any, is refunded — or queued for refund while the gateway is down — and the seats return to sale.
    /// </summary>
    public async Task FailAsync(PurchaseRequested purchase, string reason, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var now = time.GetUtcNow();
        db.Purchases.Add(Outcome(purchase, PurchaseStatus.Failed, reason.Length > 200 ? reason[..200] : reason, now));
        // Whether or not the gateway ever charged this key, a pending refund makes sure nothing stays charged.
        db.Payments.Add(new Payment
        {
            PurchaseId = purchase.PurchaseId,
            GatewayChargeId = "",
            AmountCents = purchase.AmountCents,
            Status = PaymentStatus.RefundPending,
            ChargedAt = now,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Decided already by another delivery of the same message.
            db.ChangeTracker.Clear();
            var decided = await db.Purchases.AsNoTracking().FirstAsync(p => p.Id == purchase.PurchaseId, cancellationToken);
            await ApplyOutcomeToRedisAsync(purchase, decided.Status, decided.FailureReason);
            return;
        }

        await TryRefundAsync(purchase.PurchaseId, cancellationToken);
        await ApplyOutcomeToRedisAsync(purchase, PurchaseStatus.Failed, reason);
        metrics.PurchaseFailed();
    }

    /// <summary>Refunds a pending refund; false when the gateway is unavailable (the refund retrier tries again).</summary>
    public async Task<bool> TryRefundAsync(Guid purchaseId, CancellationToken cancellationToken)
    {
        try
        {
            var refunded = await payments.RefundAsync(purchaseId, cancellationToken);
            await db.Payments.Where(p => p.PurchaseId == purchaseId && p.Status == PaymentStatus.RefundPending)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(p => p.Status, refunded ? PaymentStatus.Refunded : PaymentStatus.NeverCharged)
                    .SetProperty(p => p.RefundedAt, time.GetUtcNow()), cancellationToken);
            return true;
        }
        catch (Exception ex) when (IsGatewayUnavailable(ex))
        {
            logger.LogWarning("Refund of purchase {PurchaseId} deferred: {Reason}", purchaseId, ex.Message);
            return false;
        }
    }

    /// <summary>
    /// Writes the order, its tickets and the payment in one transaction; returns a failure reason when the seats or
    /// tickets turned out to be sold (the database is the final arbiter), null when confirmed.
    /// Read committed is enough: correctness rests on constraints, not on what the transaction reads. The unique
    /// index on active (campaign, seat) tickets rejects a seat sold twice whatever the interleaving; general
    /// admission is taken with one guarded increment ("sold + n &lt;= capacity"), backed by a CHECK constraint. An
    /// optimistic version check would be correct too, but on a counter that every confirmation of the category
    /// updates it makes nearly all concurrent confirmations fail and retry; the guarded increment instead holds the
    /// row lock only from the update to the commit, which is why it comes last.
    /// </summary>
    private async Task<string?> RecordOrderAsync(PurchaseRequested purchase, CancellationToken cancellationToken)
    {
        try
        {
            return await db.Database.CreateExecutionStrategy().ExecuteAsync(() => RecordOrderOnceAsync(purchase, cancellationToken));
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation("UX_Tickets_ActiveSeat"))
        {
            return "A seat of this hold was sold to someone else.";
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // The order or purchase exists: a concurrent delivery of this same message committed first.
            return null;
        }
    }

    private async Task<string?> RecordOrderOnceAsync(PurchaseRequested purchase, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var now = time.GetUtcNow();
        var order = new Order
        {
            Id = purchase.PurchaseId,
            CampaignId = purchase.CampaignId,
            UserId = purchase.UserId,
            Status = OrderStatus.Confirmed,
            TotalCents = purchase.AmountCents,
            CreatedAt = now,
        };
        var ticketCount = purchase.Seats.Count + (purchase.GeneralAdmissionCategoryId is null ? 0 : purchase.Quantity);
        var perTicket = purchase.AmountCents / Math.Max(ticketCount, 1);
        foreach (var seat in purchase.Seats)
        {
            order.Tickets.Add(new Ticket { Id = Guid.CreateVersion7(), CampaignId = purchase.CampaignId, SeatIndex = seat, PriceCents = perTicket });
        }

        for (var i = 0; purchase.GeneralAdmissionCategoryId is { } category && i < purchase.Quantity; i++)
        {
            order.Tickets.Add(new Ticket { Id = Guid.CreateVersion7(), CampaignId = purchase.CampaignId, GeneralAdmissionCategoryId = category, PriceCents = perTicket });
        }

        db.Orders.Add(order);
        db.Payments.Add(new Payment
        {
            PurchaseId = purchase.PurchaseId,
            GatewayChargeId = purchase.PurchaseId.ToString("N"),
            AmountCents = purchase.AmountCents,
            Status = PaymentStatus.Charged,
            ChargedAt = now,
        });
        db.Purchases.Add(Outcome(purchase, PurchaseStatus.Confirmed, null, now));
        await db.SaveChangesAsync(cancellationToken);

        if (purchase.GeneralAdmissionCategoryId is { } categoryId)
        {
            var quantity = purchase.Quantity;
            var taken = await db.GeneralAdmissionCategories
                .Where(g => g.Id == categoryId && g.Sold + quantity <= g.Capacity)
                .ExecuteUpdateAsync(u => u.SetProperty(g => g.Sold, g => g.Sold + quantity).SetProperty(g => g.Version, g => g.Version + 1), cancellationToken);
            if (taken == 0)
            {
                return "Sold out.";
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return null;
    }

    /// <summary>
    /// True when the hold is gone (it expired) and another buyer holds or bought one of its seats since. When Redis
    /// lost everything, nobody can be seen holding them and PostgreSQL decides.
    /// </summary>
    private async Task<bool> SeatsWentElsewhereAsync(PurchaseRequested purchase)
    {
        if (purchase.Seats.Count == 0 || await inventory.GetHoldAsync(purchase.CampaignId, purchase.HoldId) is not null)
        {
            return false;
        }

        var states = await inventory.GetSeatStatesAsync(purchase.CampaignId, purchase.Seats);
        return states.Any(s => s is not null && s != "H:" + purchase.HoldId.ToString("N") && s != "S:" + purchase.PurchaseId.ToString("N"));
    }

    private static Purchase Outcome(PurchaseRequested purchase, PurchaseStatus status, string? reason, DateTimeOffset now) => new()
    {
        Id = purchase.PurchaseId,
        UserId = purchase.UserId,
        CampaignId = purchase.CampaignId,
        HoldId = purchase.HoldId,
        Status = status,
        FailureReason = reason,
        AmountCents = purchase.AmountCents,
        AcceptedAt = purchase.AcceptedAt,
        CompletedAt = now,
    };

    private async Task ApplyOutcomeToRedisAsync(PurchaseRequested purchase, PurchaseStatus status, string? reason)
    {
        if (status == PurchaseStatus.Confirmed)
        {
            await inventory.ConfirmAsync(purchase.CampaignId, purchase.PurchaseId, purchase.HoldId, purchase.UserId,
                purchase.GeneralAdmissionCategoryId, purchase.Quantity, purchase.Seats);
        }
        else
        {
            await inventory.ReleaseAsync(purchase.CampaignId, purchase.HoldId, ownerId: null, force: true);
        }

        var record = new PurchaseStatusRecord(purchase.UserId, status.ToString(), status == PurchaseStatus.Confirmed ? purchase.PurchaseId : null, reason);
        var json = JsonSerializer.Serialize(record);
        var db = redis.GetDatabase();
        await db.StringSetAsync(PurchaseOutcomeChannel.StatusKey(purchase.PurchaseId), json, PurchaseOutcomeChannel.Retention);
        await db.PublishAsync(PurchaseOutcomeChannel.For(purchase.PurchaseId), json);
    }

    private static bool IsGatewayUnavailable(Exception ex) =>
        ex is HttpRequestException or BrokenCircuitException or TimeoutException or Polly.Timeout.TimeoutRejectedException
        || (ex is TaskCanceledException && ex.InnerException is TimeoutException);
}
