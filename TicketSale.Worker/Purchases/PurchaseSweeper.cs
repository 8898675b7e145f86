using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;
using TicketSale.Worker.Inventory;

namespace TicketSale.Worker.Purchases;

/// <summary>
/// Decides the purchases that nothing else will, without trusting the queue to still hold their messages:
/// <list type="bullet">
/// <item>pending in PostgreSQL past their deadline (and a grace longer than any charge): failed, the charge refunded
/// or the key voided, the seats released;</item>
/// <item>holds pinned to a purchase past the pin (the deadline and then some) whose purchase PostgreSQL never
/// recorded — its message was lost before any Worker took it, so it was never charged: failed and released the
/// same way. A purchase that was decided but whose outcome Redis missed is applied to Redis.</item>
/// </list>
/// </summary>
public sealed class PurchaseSweeper(IServiceScopeFactory scopes, SeatInventory inventory, TimeProvider time,
    IOptions<InventoryJobOptions> options, WorkerMetrics metrics, ILogger<PurchaseSweeper> logger) : BackgroundService
{
    private const int Limit = 100;

    /// <summary>Far beyond any purchase's deadline: a use older than this with no live purchase is nobody's.</summary>
    private static readonly TimeSpan s_orphanedPromoUseAge = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PurchaseSweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Purchase sweep failed; next tick tries again");
            }
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        var processor = scope.ServiceProvider.GetRequiredService<PurchaseProcessor>();
        var now = time.GetUtcNow();

        var overdue = now - options.Value.PendingPurchaseGrace;
        var stale = await db.Purchases.AsNoTracking()
            .Where(p => p.Status == PurchaseStatus.Pending && p.Deadline < overdue && p.Request != null)
            .OrderBy(p => p.Deadline).Select(p => p.Request!).Take(Limit).ToListAsync(cancellationToken);
        foreach (var request in stale)
        {
            var purchase = JsonSerializer.Deserialize<PurchaseRequested>(request)!;
            logger.LogWarning("Purchase {PurchaseId} is still pending past its deadline: failing it", purchase.PurchaseId);
            await processor.FailAsync(purchase, "The purchase could not be completed in time.", cancellationToken);
        }

        // A promo code's use taken by a purchase that never reached a Worker and could not be given back then (the
        // database was down when its publishing failed): no purchase holds it an hour on.
        await db.Database.ExecuteSqlAsync(
            $"""
            WITH orphans AS (
                DELETE FROM "PromoRedemptions" r WHERE r."ReservedAt" < {now - s_orphanedPromoUseAge}
                AND NOT EXISTS (SELECT 1 FROM "Purchases" p WHERE p."Id" = r."PurchaseId" AND p."Status" <> 'Failed')
                RETURNING r."PromoCodeId")
            UPDATE "PromoCodes" c SET "Used" = c."Used" - o.uses FROM (SELECT "PromoCodeId", count(*)::int AS uses FROM orphans GROUP BY 1) o
            WHERE c."Id" = o."PromoCodeId"
            """, cancellationToken);

        // What this sweep left undecided (beyond its batch, or failing to decide): the PurchaseUnresolvedPastDeadline alert.
        metrics.Overdue(await db.Purchases.CountAsync(p => p.Status == PurchaseStatus.Pending && p.Deadline < overdue, cancellationToken));

        foreach (var campaign in await inventory.GetActiveCampaignsAsync())
        {
            foreach (var hold in await inventory.GetLapsedHoldsAsync(campaign, now, Limit))
            {
                if (hold.PurchaseId is not { } purchaseId)
                {
                    continue;
                }

                var recorded = await db.Purchases.AsNoTracking().FirstOrDefaultAsync(p => p.Id == purchaseId, cancellationToken);
                var purchase = new PurchaseRequested(purchaseId, hold.UserId, campaign, hold.HoldId, hold.Seats, hold.GeneralAdmissionCategoryId,
                    hold.Quantity, recorded?.AmountCents ?? 0, recorded?.AcceptedAt ?? now, hold.ExpiresAt);
                switch (recorded?.Status)
                {
                    case null:
                        logger.LogWarning("Purchase {PurchaseId} was accepted but never reached a Worker: failing it", purchaseId);
                        await processor.FailAsync(purchase, "The purchase was lost before it could be processed.", cancellationToken);
                        break;
                    case PurchaseStatus.Pending:
                        // Pending rows are failed above, from what they recorded, once past their own deadline.
                        break;
                    default:
                        await processor.ApplyDecidedOutcomeAsync(purchase, cancellationToken);
                        break;
                }
            }
        }
    }
}
