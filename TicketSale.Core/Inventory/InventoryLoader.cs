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

        var soldSeats = await db.Tickets.AsNoTracking()
            .Where(t => t.CampaignId == campaignId && t.Active && t.SeatIndex != null)
            .Select(t => new { Seat = t.SeatIndex!.Value, t.OrderId })
            .ToDictionaryAsync(t => t.Seat, t => t.OrderId, cancellationToken);
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

        return new InventorySnapshot(campaign.Id, campaign.SeatCount, soldSeats,
            generalAdmission.Select(g => (g.Id, g.Capacity, g.Sold)).ToList(), perUser);
    }

    public async Task<RebuildSummary?> RebuildAsync(Guid campaignId, CancellationToken cancellationToken = default) =>
        await ReadSnapshotAsync(campaignId, cancellationToken) is { } snapshot ? await inventory.RebuildAsync(snapshot) : null;
}
