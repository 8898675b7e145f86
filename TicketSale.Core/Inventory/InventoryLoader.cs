using Microsoft.EntityFrameworkCore;
using TicketSale.Core.Data;

namespace TicketSale.Core.Inventory;

/// <summary>Reads a campaign's truth from PostgreSQL and rebuilds its availability in Redis from it.</summary>
public sealed class InventoryLoader(TicketSaleDbContext db, SeatInventory inventory)
{
    public async Task<InventorySnapshot?> ReadSnapshotAsync(Guid campaignId, CancellationToken cancellationToken = default)
    {
        var campaign = await db.Campaigns.AsNoTracking()
            .Where(c => c.Id == campaignId)
            .Select(c => new { c.Id, SeatCount = c.Venue == null ? 0 : c.Venue.SeatCount })
            .FirstOrDefaultAsync(cancellationToken);
        if (campaign is null)
        {
            return null;
        }

        var soldSeats = await ReadSoldSeatsAsync(campaignId, cancellationToken);
        var generalAdmission = await db.GeneralAdmissionCategories.AsNoTracking()
            .Where(g => g.CampaignId == campaignId)
            .Select(g => new { g.Id, g.Capacity, g.Sold })
            .ToListAsync(cancellationToken);
        var perUser = await db.Tickets.AsNoTracking()
            .Where(t => t.CampaignId == campaignId && t.Active)
            .Join(db.Orders, t => t.OrderId, o => o.Id, (t, o) => o.UserId)
            .GroupBy(u => u)
            .Select(g => new { User = g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.User, x => x.Count, cancellationToken);

        // Which orders Redis has seen through, so that a confirmation or a cancellation arriving after the rebuild
        // (a redelivered message, a retried request) is not counted a second time.
        var orders = await db.Orders.AsNoTracking()
            .Where(o => o.CampaignId == campaignId)
            .Select(o => new { o.Id, Cancelled = o.Status == OrderStatus.Cancelled })
            .ToListAsync(cancellationToken);

        var waiting = await ReadWaitingListAsync(campaignId, cancellationToken);
        return new InventorySnapshot(campaign.Id, campaign.SeatCount, soldSeats,
            generalAdmission.Select(g => (g.Id, g.Capacity, g.Sold)).ToList(), perUser, orders.Select(o => (o.Id, o.Cancelled)).ToList(), waiting);
    }

    /// <summary>The campaign's waiting-list entries still waiting, in order.</summary>
    public async Task<List<(Guid Id, long Position)>> ReadWaitingListAsync(Guid campaignId, CancellationToken cancellationToken = default) =>
        (await db.WaitingListEntries.AsNoTracking()
            .Where(e => e.CampaignId == campaignId && e.Status == WaitingListStatus.Waiting)
            .OrderBy(e => e.Position)
            .Select(e => new { e.Id, e.Position })
            .ToListAsync(cancellationToken))
        .ConvertAll(e => (e.Id, e.Position));

    /// <summary>The campaign's sold seats and the order each belongs to, as PostgreSQL has them.</summary>
    public Task<Dictionary<int, Guid>> ReadSoldSeatsAsync(Guid campaignId, CancellationToken cancellationToken = default) =>
        db.Tickets.AsNoTracking()
            .Where(t => t.CampaignId == campaignId && t.Active && t.SeatIndex != null)
            .Select(t => new { Seat = t.SeatIndex!.Value, t.OrderId })
            .ToDictionaryAsync(t => t.Seat, t => t.OrderId, cancellationToken);

    /// <summary>
    /// Makes sure Redis has the campaign's availability, rebuilding it when Redis lost it. When many requests find it
    /// missing at once (a flushed Redis in the middle of a sale), one of them rebuilds, under a short Redis lock
    /// shared by all replicas, and the others wait for it instead of rebuilding side by side.
    /// </summary>
    public async Task EnsureLoadedAsync(Guid campaignId, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + s_lockWait;
        while (!await inventory.IsLoadedAsync(campaignId))
        {
            if (await inventory.TryLockRebuildAsync(campaignId, s_lockLease) is { } token)
            {
                try
                {
                    if (!await inventory.IsLoadedAsync(campaignId))
                    {
                        await RebuildLockedAsync(campaignId, cancellationToken);
                    }
                }
                finally
                {
                    await inventory.UnlockRebuildAsync(campaignId, token);
                }

                return;
            }

            await WaitForLockAsync(campaignId, deadline, cancellationToken);
        }
    }

    /// <summary>
    /// Rebuilds the campaign's availability whether or not Redis has it (a sale opening, an operator's rebuild), under
    /// the same lock: a check that found it missing a moment before waits and then finds it loaded, instead of
    /// rebuilding it a second time (every rebuild makes each open seat map fetch the whole map again).
    /// </summary>
    public async Task<RebuildSummary?> RebuildAsync(Guid campaignId, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + s_lockWait;
        while (true)
        {
            if (await inventory.TryLockRebuildAsync(campaignId, s_lockLease) is { } token)
            {
                try
                {
                    return await RebuildLockedAsync(campaignId, cancellationToken);
                }
                finally
                {
                    await inventory.UnlockRebuildAsync(campaignId, token);
                }
            }

            await WaitForLockAsync(campaignId, deadline, cancellationToken);
        }
    }

    private static readonly TimeSpan s_lockWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_lockLease = TimeSpan.FromSeconds(15);

    private static async Task WaitForLockAsync(Guid campaignId, DateTime deadline, CancellationToken cancellationToken)
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new InventoryUnavailableException(campaignId);
        }

        await Task.Delay(50, cancellationToken);
    }

    private async Task<RebuildSummary?> RebuildLockedAsync(Guid campaignId, CancellationToken cancellationToken)
    {
        if (!await db.Campaigns.AnyAsync(c => c.Id == campaignId, cancellationToken))
        {
            return null;
        }

        return await inventory.RebuildAsync(campaignId, async ct => (await ReadSnapshotAsync(campaignId, ct))!, cancellationToken);
    }
}

/// <summary>The campaign's availability is being rebuilt and was not ready in time; the caller should come back.</summary>
public sealed class InventoryUnavailableException(Guid campaignId)
    : Exception($"The availability of campaign {campaignId} is being rebuilt.");
