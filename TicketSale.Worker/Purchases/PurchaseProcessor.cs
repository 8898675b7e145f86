using Microsoft.EntityFrameworkCore;
using Polly.CircuitBreaker;
using StackExchange.Redis;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;
using TicketSale.Core.Payments;
using TicketSale.Core.Security;

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
/// The purchase is recorded in PostgreSQL as pending before it is charged, so that no charge can exist for a purchase
/// the database does not know. Safe to run more than once for the same message: the order's primary key is the
/// purchase id, only a pending purchase can be confirmed or failed, the ticket table's unique index allows one
/// active ticket per seat, and the gateway is idempotent on the purchase id. Many run at once; the records and the
/// orders are written by group commit (<see cref="PurchaseRecorder"/>, <see cref="OrderWriter"/>).
/// </summary>
public sealed class PurchaseProcessor(
    TicketSaleDbContext db,
    SeatInventory inventory,
    PaymentGatewayClient payments,
    PurchaseRecorder recorder,
    OrderWriter orders,
    IConnectionMultiplexer redis,
    TimeProvider time,
    WorkerMetrics metrics,
    SecurityEvents events,
    ILogger<PurchaseProcessor> logger)
{
    /// <param name="purchase">The accepted purchase.</param>
    /// <param name="cancellationToken">Stops the Worker.</param>
    public async Task<ProcessingResult> ProcessAsync(PurchaseRequested purchase, CancellationToken cancellationToken)
    {
        // Nothing is charged past the deadline: from then on the sweeper may fail the purchase at any moment.
        if (time.GetUtcNow() > purchase.Deadline)
        {
            await FailAsync(purchase, "The purchase could not be completed in time.", cancellationToken);
            return ProcessingResult.Done;
        }

        if (await recorder.RecordAsync(purchase, cancellationToken) != PurchaseStatus.Pending)
        {
            // A redelivery of a purchase already decided (the ack was lost, or the sweeper failed it): Redis follows.
            await ApplyDecidedOutcomeAsync(purchase, cancellationToken);
            return ProcessingResult.Done;
        }

        if (await SeatsWentElsewhereAsync(purchase))
        {
            await FailAsync(purchase, "The hold expired and its seats were taken.", cancellationToken);
            return ProcessingResult.Done;
        }

        Charge charge;
        try
        {
            charge = await payments.ChargeAsync(purchase.PurchaseId, purchase.AmountCents, cancellationToken);
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

        // The order is what the buyer agreed to pay: a gateway that took another amount is refunded, not believed.
        if (charge.AmountCents != purchase.AmountCents)
        {
            logger.LogError("The payment gateway charged {ChargedCents} for purchase {PurchaseId} of {AmountCents}: refunding it",
                charge.AmountCents, purchase.PurchaseId, purchase.AmountCents);
            await FailAsync(purchase, $"The payment gateway charged {charge.AmountCents} cents instead of {purchase.AmountCents}; the charge is refunded.", cancellationToken);
            return ProcessingResult.Done;
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
    /// Fails a purchase for good, if it is not decided yet: the failure is recorded first (so a crash here cannot lose
    /// it), then the charge, if any, is refunded — or the key voided, so that a charge still on its way is declined —
    /// or queued for refund while the gateway is down, and the seats return to sale. A purchase decided already
    /// (confirmed by another delivery) keeps its outcome, and Redis is brought in line with it.
    /// </summary>
    public async Task FailAsync(PurchaseRequested purchase, string reason, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        reason = reason.Length > 200 ? reason[..200] : reason;
        var now = time.GetUtcNow().ToUniversalTime();
        bool failed;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // Inserted when no delivery recorded the purchase yet, failed when it is pending, untouched when decided.
            failed = await db.Database.ExecuteSqlAsync(
                $"""
                INSERT INTO "Purchases" ("Id", "UserId", "CampaignId", "HoldId", "Status", "FailureReason", "AmountCents", "AcceptedAt", "CompletedAt", "Deadline")
                VALUES ({purchase.PurchaseId}, {purchase.UserId}, {purchase.CampaignId}, {purchase.HoldId}, 'Failed', {reason}, {purchase.AmountCents},
                        {purchase.AcceptedAt.ToUniversalTime()}, {now}, {purchase.Deadline.ToUniversalTime()})
                ON CONFLICT ("Id") DO UPDATE SET "Status" = 'Failed', "FailureReason" = EXCLUDED."FailureReason", "CompletedAt" = EXCLUDED."CompletedAt", "Request" = NULL
                WHERE "Purchases"."Status" = 'Pending'
                """, cancellationToken) == 1;
            if (failed)
            {
                // Whether or not the gateway ever charged this key, a pending refund makes sure nothing stays charged.
                await db.Database.ExecuteSqlAsync(
                    $"""
                    INSERT INTO "Payments" ("PurchaseId", "GatewayChargeId", "AmountCents", "Status", "ChargedAt")
                    VALUES ({purchase.PurchaseId}, '', {purchase.AmountCents}, 'RefundPending', {now})
                    ON CONFLICT ("PurchaseId") DO NOTHING
                    """, cancellationToken);
                // The promo code's use, if it took one, is the next buyer's.
                await PromoBudget.ReleaseAsync(db.Database, purchase.PurchaseId, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        if (!failed)
        {
            await ApplyDecidedOutcomeAsync(purchase, cancellationToken);
            return;
        }

        await TryRefundAsync(purchase.PurchaseId, reason, cancellationToken);
        await ApplyOutcomeToRedisAsync(purchase, PurchaseStatus.Failed, reason);
        metrics.PurchaseFailed();
    }

    /// <summary>Refunds a pending refund; false when the gateway is unavailable (the refund retrier tries again).</summary>
    public async Task<bool> TryRefundAsync(Guid purchaseId, string reason, CancellationToken cancellationToken)
    {
        try
        {
            var refunded = await payments.RefundAsync(purchaseId, cancellationToken);
            events.Refund(purchaseId, refunded ? "refunded" : "key voided, nothing was charged", reason);
            var now = time.GetUtcNow();
            // The payment marked, and the buyer told of money given back (once: only the update that marks it writes it).
            await db.Database.ExecuteSqlAsync(
                $"""
                WITH marked AS (
                    UPDATE "Payments" SET "Status" = {(refunded ? PaymentStatus.Refunded : PaymentStatus.NeverCharged).ToString()}, "RefundedAt" = {now}
                    WHERE "PurchaseId" = {purchaseId} AND "Status" = 'RefundPending'
                    RETURNING "PurchaseId")
                INSERT INTO "OutboxMessages" ("Type", "CampaignId", "OrderId", "OccurredAt", "MailPending", "MailAttempts", "WebhooksPending")
                SELECT {OrderEvents.Refunded}, p."CampaignId", p."Id", {now}, TRUE, 0, FALSE
                FROM "Purchases" p JOIN marked m ON m."PurchaseId" = p."Id" WHERE {refunded}
                """, cancellationToken);
            return true;
        }
        catch (Exception ex) when (IsGatewayUnavailable(ex))
        {
            logger.LogWarning("Refund of purchase {PurchaseId} deferred: {Reason}", purchaseId, ex.Message);
            return false;
        }
    }

    /// <summary>Makes Redis agree with an outcome that another delivery of the same purchase (or the sweeper) recorded.</summary>
    public async Task ApplyDecidedOutcomeAsync(PurchaseRequested purchase, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var decided = await db.Purchases.AsNoTracking().FirstAsync(p => p.Id == purchase.PurchaseId, cancellationToken);
        if (decided.Status != PurchaseStatus.Pending)
        {
            await ApplyOutcomeToRedisAsync(purchase, decided.Status, decided.FailureReason);
        }
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
            new PurchaseStatusRecord(purchase.UserId, status.ToString(), status == PurchaseStatus.Confirmed ? purchase.PurchaseId : null, reason, purchase.HoldId));
        return Task.WhenAll(inventoryChange, record);
    }

    private static bool IsGatewayUnavailable(Exception ex) =>
        ex is HttpRequestException or BrokenCircuitException or TimeoutException or Polly.Timeout.TimeoutRejectedException
        || (ex is TaskCanceledException && ex.InnerException is TimeoutException);
}
