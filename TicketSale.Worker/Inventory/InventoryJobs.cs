using Microsoft.EntityFrameworkCore;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Worker.Purchases;

namespace TicketSale.Worker.Inventory;

public sealed class InventoryJobOptions
{
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan RefundRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan PurchaseSweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often tickets that came back are offered to the waiting lists.</summary>
    public TimeSpan WaitingListInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long after its deadline a pending purchase is failed by the sweeper. Longer than a charge can take (the
    /// payment client gives up after 12 s): a charge started before the deadline has ended by then.
    /// </summary>
    public TimeSpan PendingPurchaseGrace { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the reconciler waits before looking again at seats on which Redis and PostgreSQL disagree.</summary>
    public TimeSpan DriftSettleTime { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Returns expired holds' seats to sale (the hold script also ignores lapsed holds by itself).</summary>
public sealed class HoldSweeper(SeatInventory inventory, WorkerMetrics metrics, Microsoft.Extensions.Options.IOptions<InventoryJobOptions> options, ILogger<HoldSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var campaign in await inventory.GetActiveCampaignsAsync())
                {
                    int released;
                    do
                    {
                        released = await inventory.SweepExpiredAsync(campaign, 500);
                        metrics.HoldsExpired(released);
                    }
                    while (released == 500);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Hold sweep failed; next tick tries again");
            }
        }
    }
}

/// <summary>
/// Keeps Redis availability consistent with PostgreSQL: rebuilds a campaign on sale whose availability Redis lost
/// (at start and on every check) and exports the seats on which the two disagree as a metric, and per campaign for
/// the organizer's dashboard.
/// </summary>
public sealed class InventoryReconciler(IServiceScopeFactory scopes, SeatInventory inventory, WorkerMetrics metrics,
    Microsoft.Extensions.Options.IOptions<InventoryJobOptions> options, TimeProvider time, ILogger<InventoryReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReconcileInterval);
        do
        {
            try
            {
                await CheckAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Inventory reconciliation failed; next tick tries again");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        var loader = scope.ServiceProvider.GetRequiredService<InventoryLoader>();
        var onSale = await db.Campaigns.AsNoTracking().Where(c => c.Status == CampaignStatus.OnSale).Select(c => c.Id).ToListAsync(cancellationToken);
        long drift = 0;
        var lost = new List<Guid>();
        foreach (var campaign in onSale)
        {
            // One campaign that cannot be checked now does not blind the check of the others.
            try
            {
                if (!await inventory.IsLoadedAsync(campaign))
                {
                    lost.Add(campaign);
                    continue;
                }

                // Only the sold seats: the whole snapshot (a rebuild's) also counts every buyer's tickets, a join and a
                // group-by over the campaign's tickets every interval, for nothing the check uses.
                var suspects = Disagreements(await loader.ReadSoldSeatsAsync(campaign, cancellationToken), await inventory.GetSoldSeatsAsync(campaign));
                if (suspects.Count == 0)
                {
                    await inventory.RecordDriftAsync(campaign, 0, time.GetUtcNow());
                    continue;
                }

                // A sale or a cancellation reaches PostgreSQL first and Redis a moment later: a seat is counted only if
                // the two still disagree about it when looked at again.
                await Task.Delay(options.Value.DriftSettleTime, cancellationToken);
                suspects.IntersectWith(Disagreements(await loader.ReadSoldSeatsAsync(campaign, cancellationToken), await inventory.GetSoldSeatsAsync(campaign)));
                drift += suspects.Count;
                await inventory.RecordDriftAsync(campaign, suspects.Count, time.GetUtcNow());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Could not check campaign {CampaignId}; the next check tries again", campaign);
            }
        }

        metrics.Drift(drift);

        // The rebuilds come after the drift is reported, and take at most about one interval per check: when Redis
        // lost everything, rebuilding every campaign on sale in one go held the drift check back for as long as that
        // took (in one clean-clone test run, a drift made right after a flush did not show within 30 s). Campaigns
        // people are buying from are rebuilt on their first request anyway.
        var budget = System.Diagnostics.Stopwatch.StartNew();
        foreach (var campaign in lost.TakeWhile(_ => budget.Elapsed < options.Value.ReconcileInterval))
        {
            try
            {
                logger.LogWarning("Redis lost the availability of campaign {CampaignId}; rebuilding it from PostgreSQL", campaign);
                await loader.EnsureLoadedAsync(campaign, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Could not rebuild campaign {CampaignId}; the next check tries again", campaign);
            }
        }
    }

    /// <summary>
    /// Seats sold in one store and not in the other, or to different orders: a seat PostgreSQL sold that Redis still
    /// offers (it could be sold twice), and a seat Redis shows sold that PostgreSQL does not have (nobody can buy it).
    /// </summary>
    public static HashSet<int> Disagreements(IReadOnlyDictionary<int, Guid> postgres, IReadOnlyDictionary<int, Guid> redis) =>
        [.. postgres.Keys.Union(redis.Keys).Where(seat => !(postgres.TryGetValue(seat, out var sold) && redis.TryGetValue(seat, out var shown) && sold == shown))];
}

/// <summary>Retries refunds that could not be made when their purchase failed (the gateway was down).</summary>
public sealed class RefundRetrier(IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<InventoryJobOptions> options, ILogger<RefundRetrier> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefundRetryInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
                var processor = scope.ServiceProvider.GetRequiredService<PurchaseProcessor>();
                var pending = await db.Payments.AsNoTracking().Where(p => p.Status == PaymentStatus.RefundPending)
                    .OrderBy(p => p.ChargedAt).Select(p => p.PurchaseId).Take(100).ToListAsync(stoppingToken);
                foreach (var purchaseId in pending)
                {
                    if (!await processor.TryRefundAsync(purchaseId, "a refund deferred while the payment gateway was unavailable", stoppingToken))
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Refund retry failed; next tick tries again");
            }
        }
    }
}
