using Microsoft.EntityFrameworkCore;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;

namespace TicketSale.Api.Sales;

/// <summary>
/// A sold-out campaign's waiting list, as a buyer sees it: joining (once, at the back), their place, the offer made to
/// them, and leaving. The Worker's pump makes the offers, in the order of joining (<see cref="WaitingListEntry.Position"/>).
/// </summary>
public sealed class WaitingLists(TicketSaleDbContext db, CampaignCatalog catalog, SeatInventory inventory, WaitingListInventory list,
    InventoryLoader loader, TimeProvider time)
{
    public async Task<Outcome<WaitingListView>> JoinAsync(Guid campaignId, Guid userId, JoinWaitingListRequest request, CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(campaignId, cancellationToken) is not { Status: not CampaignStatus.Draft } campaign)
        {
            return Refusal.NotFound("No such campaign.");
        }

        if (request.GeneralAdmissionCategoryId is { } category && campaign.GeneralAdmission.All(g => g.Id != category))
        {
            return Refusal.Invalid("generalAdmissionCategoryId", "No such general-admission category in this campaign.");
        }

        if (request.GeneralAdmissionCategoryId is null && campaign.SeatCount == 0)
        {
            return Refusal.Invalid("generalAdmissionCategoryId", "This campaign sells general admission only: name the category.");
        }

        if (request.Quantity < 1 || request.Quantity > campaign.PerUserLimit)
        {
            return Refusal.Invalid("quantity", $"Between 1 and {campaign.PerUserLimit} tickets (the per-person limit).");
        }

        if (!campaign.IsOnSale(time.GetUtcNow()))
        {
            return new Refusal(RefusalReason.NotOnSale, "The campaign is not on sale.");
        }

        // The list is for tickets that come back: while nobody waits and the tickets wanted are there, hold them.
        if (await list.CountAsync(campaignId) == 0 && await AvailableAsync(campaign, request, cancellationToken))
        {
            return Refusal.Conflict("tickets-available", "These tickets are available now: hold them instead.");
        }

        if (await LatestAsync(campaignId, userId, cancellationToken) is { } latest && await IsActiveAsync(latest))
        {
            return Refusal.Conflict("already-on-waiting-list", "You are on this waiting list already.");
        }

        var entry = new WaitingListEntry
        {
            Id = Guid.CreateVersion7(),
            CampaignId = campaignId,
            UserId = userId,
            Quantity = request.Quantity,
            GeneralAdmissionCategoryId = request.GeneralAdmissionCategoryId,
            Status = WaitingListStatus.Waiting,
            JoinedAt = time.GetUtcNow(),
        };
        db.WaitingListEntries.Add(entry);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // The same buyer joining twice at once: the one place per buyer is the database's to keep.
            return Refusal.Conflict("already-on-waiting-list", "You are on this waiting list already.");
        }

        // After the commit: a mirror write lost here is put right by the Worker's pump, which compares the two.
        await list.AddAsync(campaignId, entry.Id, entry.Position);
        return await ViewAsync(campaignId, userId, cancellationToken);
    }

    /// <summary>How many wait, and the buyer's latest entry: their place, or the offer made to them and what became of it.</summary>
    public async Task<WaitingListView> ViewAsync(Guid campaignId, Guid userId, CancellationToken cancellationToken)
    {
        var waiting = await list.CountAsync(campaignId);
        if (await LatestAsync(campaignId, userId, cancellationToken) is not { } entry)
        {
            return new WaitingListView(waiting, null);
        }

        long? place = null;
        WaitingListOfferView? offer = null;
        var status = entry.Status.ToString();
        if (entry.Status == WaitingListStatus.Waiting)
        {
            place = await list.PlaceAsync(campaignId, entry.Id)
                ?? 1 + await db.WaitingListEntries.CountAsync(e => e.CampaignId == campaignId && e.Status == WaitingListStatus.Waiting && e.Position < entry.Position,
                    cancellationToken);
        }
        else if (entry.Status == WaitingListStatus.Offered)
        {
            // The offer is a hold (its id is the entry's): bought through a purchase, or let go.
            var purchase = await db.Purchases.AsNoTracking().Where(p => p.HoldId == entry.Id && p.UserId == userId)
                .Select(p => new { p.Id, p.Status }).FirstOrDefaultAsync(cancellationToken);
            var hold = await inventory.GetHoldAsync(campaignId, entry.Id);
            status = purchase is { Status: not PurchaseStatus.Failed } ? "Bought"
                : hold is not null && hold.ExpiresAt > time.GetUtcNow() ? "Offered"
                : "Expired";
            offer = new WaitingListOfferView(entry.Id, entry.OfferExpiresAt!.Value, hold?.Seats ?? [], entry.GeneralAdmissionCategoryId,
                entry.Quantity, purchase?.Id);
        }

        return new WaitingListView(waiting, new WaitingListEntryView(entry.Id, status, place, entry.Quantity, entry.GeneralAdmissionCategoryId,
            entry.JoinedAt, offer));
    }

    public async Task<Outcome<WaitingListView>> LeaveAsync(Guid campaignId, Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // The row lock orders this after an offer being made to the entry: an entry offered meanwhile is no longer waiting.
        var left = await db.WaitingListEntries
            .Where(e => e.CampaignId == campaignId && e.UserId == userId && e.Status == WaitingListStatus.Waiting)
            .ExecuteUpdateAsync(u => u.SetProperty(e => e.Status, WaitingListStatus.Left).SetProperty(e => e.LeftAt, now), cancellationToken);
        var latest = await LatestAsync(campaignId, userId, cancellationToken);
        if (left == 0)
        {
            return latest is { Status: WaitingListStatus.Offered }
                ? Refusal.Conflict("offer-made", "Tickets are held for you already: buy them, or release the hold.")
                : Refusal.NotFound("You are not on this waiting list.");
        }

        await list.RemoveAsync(campaignId, latest!.Id);
        return await ViewAsync(campaignId, userId, cancellationToken);
    }

    private Task<WaitingListEntry?> LatestAsync(Guid campaignId, Guid userId, CancellationToken cancellationToken) =>
        db.WaitingListEntries.AsNoTracking().Where(e => e.CampaignId == campaignId && e.UserId == userId)
            .OrderByDescending(e => e.Position).FirstOrDefaultAsync(cancellationToken);

    /// <summary>Waiting, or offered tickets still held: a buyer joins again only once their turn has passed.</summary>
    private async Task<bool> IsActiveAsync(WaitingListEntry entry) => entry.Status switch
    {
        WaitingListStatus.Waiting => true,
        WaitingListStatus.Offered => await inventory.GetHoldAsync(entry.CampaignId, entry.Id) is { } hold
            && (hold.PurchaseId is not null || hold.ExpiresAt > time.GetUtcNow()),
        _ => false,
    };

    private async Task<bool> AvailableAsync(CampaignDetails campaign, JoinWaitingListRequest request, CancellationToken cancellationToken)
    {
        await loader.EnsureLoadedAsync(campaign.Id, cancellationToken);
        var categories = campaign.GeneralAdmission.Select(g => g.Id).ToList();
        var availability = await inventory.GetAvailabilityAsync(campaign.Id, campaign.SeatCount, categories);
        if (request.GeneralAdmissionCategoryId is { } category)
        {
            return availability.GeneralAdmissionLeft.GetValueOrDefault(category) >= request.Quantity;
        }

        var free = 0;
        for (var seat = 0; seat < campaign.SeatCount && free < request.Quantity; seat++)
        {
            free += availability.IsTaken(seat) ? 0 : 1;
        }

        return free >= request.Quantity;
    }
}

// Checked by WaitingLists (the category and the quantity depend on the campaign).
public sealed record JoinWaitingListRequest(int Quantity, Guid? GeneralAdmissionCategoryId);

/// <summary>How many wait for the campaign's tickets, and the buyer's own entry, if any.</summary>
public sealed record WaitingListView(long Waiting, WaitingListEntryView? Entry);

/// <param name="Status">Waiting, Offered, Bought, Expired (the offer lapsed), Left or Passed (over the per-person limit by their turn).</param>
/// <param name="Place">While waiting: 1 is next.</param>
public sealed record WaitingListEntryView(Guid EntryId, string Status, long? Place, int Quantity, Guid? GeneralAdmissionCategoryId, DateTimeOffset JoinedAt,
    WaitingListOfferView? Offer);

/// <summary>The hold offered: bought with a purchase of <paramref name="HoldId"/> before <paramref name="ExpiresAt"/>.</summary>
public sealed record WaitingListOfferView(Guid HoldId, DateTimeOffset ExpiresAt, IReadOnlyList<int> Seats, Guid? GeneralAdmissionCategoryId, int Quantity,
    Guid? PurchaseId);
