using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.WaitingRoom;

namespace TicketSale.Api.Sales;

/// <summary>Moves campaigns through draft → published → on sale → closed, and keeps their waiting room in step.</summary>
public sealed class CampaignLifecycle(TicketSaleDbContext db, CampaignCatalog catalog, InventoryLoader loader, SeatInventory inventory,
    WaitingRooms rooms, IOptions<WaitingRoomOptions> roomOptions)
{
    /// <summary>Switches the waiting room on or off, or changes its rate — also in the middle of a sale.</summary>
    public async Task<Outcome<CampaignDetails>> ConfigureWaitingRoomAsync(Guid id, WaitingRoomRequest request)
    {
        var campaign = await db.Campaigns.FirstOrDefaultAsync(c => c.Id == id);
        if (campaign is null)
        {
            return Refusal.NotFound("No such campaign.");
        }

        campaign.WaitingRoomEnabled = request.Enabled;
        campaign.AdmissionsPerSecond = request.AdmissionsPerSecond;
        campaign.PaceAdmissionsByStock = request.PaceAdmissionsByStock;
        campaign.Version++;
        await db.SaveChangesAsync();
        await catalog.InvalidateAsync(id);
        var details = (await catalog.GetAsync(id))!;
        await SyncWaitingRoomAsync(details);
        return details;
    }

    public async Task<Outcome<CampaignDetails>> MoveAsync(Guid id, CampaignStatus from, CampaignStatus to)
    {
        var campaign = await db.Campaigns.FirstOrDefaultAsync(c => c.Id == id);
        if (campaign is null)
        {
            return Refusal.NotFound("No such campaign.");
        }

        if (campaign.Status != from)
        {
            return new Refusal(RefusalReason.InvalidTransition, $"The campaign is {campaign.Status}; only a {from} campaign can become {to}.");
        }

        campaign.Status = to;
        campaign.Version++;
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateConcurrencyException)
        {
            return new Refusal(RefusalReason.StaleVersion, "The campaign changed meanwhile; try again.");
        }

        if (to == CampaignStatus.OnSale)
        {
            await loader.RebuildAsync(id);
        }
        else if (to == CampaignStatus.Closed)
        {
            await inventory.DeactivateAsync(id);
        }

        await catalog.InvalidateAsync(id);
        var details = (await catalog.GetAsync(id))!;
        await SyncWaitingRoomAsync(details);
        return details;
    }

    private async Task SyncWaitingRoomAsync(CampaignDetails campaign)
    {
        if (!campaign.WaitingRoomEnabled || campaign.Status is not (CampaignStatus.Published or CampaignStatus.OnSale))
        {
            await rooms.DeactivateAsync(campaign.Id);
            return;
        }

        await rooms.ConfigureAsync(campaign.Id, new WaitingRoomSettings(
            campaign.Status == CampaignStatus.OnSale, campaign.AdmissionsPerSecond, campaign.PaceAdmissionsByStock, roomOptions.Value.VisitorsPerTicket,
            roomOptions.Value.AdmissionLifetime, roomOptions.Value.ShoppingWindow, campaign.SeatCount, campaign.GeneralAdmission.Select(g => g.Id).ToList(), campaign.SaleOpensAt));
    }
}

public sealed record WaitingRoomRequest(bool Enabled, [property: Range(0.1, 100_000)] double AdmissionsPerSecond, bool PaceAdmissionsByStock);
