using Microsoft.EntityFrameworkCore;
using TicketSale.Api.Infrastructure;
using TicketSale.Core.Data;

namespace TicketSale.Api.Sales;

/// <summary>
/// A campaign's sales as PostgreSQL records them: seats and general admission sold, orders, revenue, purchases decided.
/// Read from the standby when it is usable: the figures may trail the sale by its lag.
/// </summary>
public sealed class SalesFigures(StaleReads reads)
{
    public Task<SalesResponse?> GetAsync(Guid id, CancellationToken cancellationToken) => reads.QueryAsync(ReadAsync(id), cancellationToken);

    private static Func<TicketSaleDbContext, CancellationToken, Task<SalesResponse?>> ReadAsync(Guid id) => async (db, cancellationToken) =>
    {
        var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Venue).Include(c => c.GeneralAdmission).FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (campaign is null)
        {
            return null;
        }

        var orders = db.Orders.Where(o => o.CampaignId == id && o.Status == OrderStatus.Confirmed);
        var purchases = await db.Purchases.Where(p => p.CampaignId == id).GroupBy(p => p.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return new SalesResponse(
            id,
            campaign.Status,
            campaign.Venue?.SeatCount ?? 0,
            await db.Tickets.CountAsync(t => t.CampaignId == id && t.Active && t.SeatIndex != null, cancellationToken),
            campaign.GeneralAdmission.Select(g => new GeneralAdmissionSales(g.Id, g.Name, g.Capacity, g.Sold)).ToList(),
            await orders.CountAsync(cancellationToken),
            await orders.SumAsync(o => (long?)o.TotalCents, cancellationToken) ?? 0,
            purchases.FirstOrDefault(p => p.Key == PurchaseStatus.Confirmed)?.Count ?? 0,
            purchases.FirstOrDefault(p => p.Key == PurchaseStatus.Failed)?.Count ?? 0);
    };
}

public sealed record SalesResponse(Guid CampaignId, CampaignStatus Status, int SeatCount, int SeatsSold, IReadOnlyList<GeneralAdmissionSales> GeneralAdmission,
    int Orders, long RevenueCents, int PurchasesConfirmed, int PurchasesFailed);

public sealed record GeneralAdmissionSales(Guid Id, string Name, int Capacity, int Sold);
