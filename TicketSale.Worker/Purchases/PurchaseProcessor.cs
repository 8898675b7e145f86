using Microsoft.EntityFrameworkCore;
using Polly.CircuitBreaker;
using StackExchange.Redis;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;
using TicketSale.Core.Payments;

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
/// unique index allows one active ticket per seat, and the gateway is idempotent on the purchase id. Many run at
/// once; the orders of those that were charged are written together by the <see cref="OrderWriter"/>.
/// </summary>
public sealed class PurchaseProcessor(
    TicketSaleDbContext db,
    SeatInventory inventory,
    PaymentGatewayClient payments,
    OrderWriter orders,
    IConnectionMultiplexer redis,
    TimeProvider time,
    WorkerMetrics metrics,
    ILogger<PurchaseProcessor> logger)
{
    /// <param name="purchase">The accepted purchase.</param>
    /// <param name="mayBeDecided">
    /// False only for a message the broker never delivered before and no attempt has failed: nothing can have decided
    /// it yet, and the lookup (a query per purchase, about a sixth of the Worker's CPU) is skipped. Even if it were
    /// wrong, the constraints below decide: the gateway replays the first charge for the key, and the outcome's
    /// primary key turns a second write into <see cref="OrderWriteResult.AlreadyDecided"/>.
    /// </param>
    /// <param name="cancellationToken">Stops the Worker.</param>
    public async Task<ProcessingResult> ProcessAsync(PurchaseRequested purchase, bool mayBeDecided, CancellationToken cancellationToken)
    {
        if (mayBeDecided && await db.Purchases.AsNoTracking().FirstOrDefaultAsync(p => p.Id == purchase.PurchaseId, cancellationToken) is { } decided)
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

        switch (await orders.WriteAsync(purchase, cancellationToken))
        {
            case OrderWriteResult.Written:
                await ApplyOutcomeToRedisAsync(purchase, PurchaseStatus.Confirmed, null);
                metrics.PurchaseConfirmed(purchase.TicketCount);
                break;
            case OrderWriteResult.SeatTaken:
                await FailAsync(purchase, "A seat of this hold was sold to someone else.", cancellationToken);
                break;
            case OrderWriteResult.SoldOut:
                await FailAsync(purchase, "Sold out.", cancellationToken);
                break;
            case OrderWriteResult.HoldBoughtAlready:
                await FailAsync(purchase, "This hold was bought by another purchase.", cancellationToken);
                break;
            case OrderWriteResult.AlreadyDecided:
                await ApplyDecidedOutcomeAsync(purchase, cancellationToken);
                break;
        }

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
            await ApplyDecidedOutcomeAsync(purchase, cancellationToken);
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

    /// <summary>Makes Redis agree with an outcome that another delivery of the same purchase recorded.</summary>
    private async Task ApplyDecidedOutcomeAsync(PurchaseRequested purchase, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var decided = await db.Purchases.AsNoTracking().FirstAsync(p => p.Id == purchase.PurchaseId, cancellationToken);
        await ApplyOutcomeToRedisAsync(purchase, decided.Status, decided.FailureReason);
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

    /// <summary>
    /// PostgreSQL has decided; Redis follows. The inventory change and the status go out together (one write, one
    /// reply read, instead of a round trip each): neither depends on the other's answer.
    /// </summary>
    private Task ApplyOutcomeToRedisAsync(PurchaseRequested purchase, PurchaseStatus status, string? reason)
    {
        var inventoryChange = status == PurchaseStatus.Confirmed
            ? inventory.ConfirmAsync(purchase.CampaignId, purchase.PurchaseId, purchase.HoldId, purchase.UserId,
                purchase.GeneralAdmissionCategoryId, purchase.Quantity, purchase.Seats)
            : inventory.ReleaseAsync(purchase.CampaignId, purchase.HoldId, ownerId: null, force: true);
        var record = PurchaseOutcomeChannel.RecordOutcomeAsync(redis.GetDatabase(), purchase.PurchaseId,
            new PurchaseStatusRecord(purchase.UserId, status.ToString(), status == PurchaseStatus.Confirmed ? purchase.PurchaseId : null, reason));
        return Task.WhenAll(inventoryChange, record);
    }

    private static bool IsGatewayUnavailable(Exception ex) =>
        ex is HttpRequestException or BrokenCircuitException or TimeoutException or Polly.Timeout.TimeoutRejectedException
        || (ex is TaskCanceledException && ex.InnerException is TimeoutException);
}
