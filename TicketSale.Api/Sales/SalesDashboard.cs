using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;
using TicketSale.Api.Infrastructure;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;
using TicketSale.Core.WaitingRoom;

namespace TicketSale.Api.Sales;

/// <summary>
/// A campaign's sale as the organizer watches it: per category what is sold (PostgreSQL), held and free (Redis's seat
/// map and counts), the tickets checked in at the door, counters the page turns into rates (holds placed, purchases confirmed), the waiting line, the
/// purchases in flight and dead-lettered, and the drift check's last finding. Read-only; no figure here decides a sale,
/// so what PostgreSQL records is read from the standby when it is usable (it may trail the sale by the standby's lag).
/// </summary>
public sealed class SalesDashboard(StaleReads reads, CampaignCatalog catalog, SeatInventory inventory, WaitingRooms rooms,
    RabbitMQConnection broker, ILogger<SalesDashboard> logger)
{
    public async Task<SalesDashboardResponse?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(id, cancellationToken) is not { } campaign)
        {
            return null;
        }

        var availability = await inventory.GetAvailabilityAsync(id, campaign.SeatCount, [.. campaign.GeneralAdmission.Select(g => g.Id)]);
        var (soldSeats, standingSold, purchases, deadLettered, revenue, checkedIn) = await reads.QueryAsync((db, ct) => RecordedAsync(db, id, ct), cancellationToken);
        var drift = await inventory.GetDriftAsync(id);
        var (queued, deadWaiting) = await QueueLengthsAsync(cancellationToken);

        var categories = SeatCategories(campaign, availability, soldSeats).Concat(campaign.GeneralAdmission.Select(g =>
        {
            var sold = standingSold.GetValueOrDefault(g.Id);
            var left = availability.Loaded ? Math.Max(0, availability.GeneralAdmissionLeft.GetValueOrDefault(g.Id)) : g.Capacity - sold;
            return new CategoryFigures(g.Name, CategoryKind.GeneralAdmission, g.Capacity, sold, Math.Max(0, g.Capacity - left - sold), left);
        })).ToList();

        return new SalesDashboardResponse(
            id, campaign.Name, campaign.Status, categories,
            await inventory.GetHoldsPlacedAsync(id),
            purchases.GetValueOrDefault(PurchaseStatus.Confirmed),
            purchases.GetValueOrDefault(PurchaseStatus.Failed),
            soldSeats.Count + standingSold.Values.Sum(),
            revenue,
            purchases.GetValueOrDefault(PurchaseStatus.Pending),
            queued,
            deadLettered,
            deadWaiting,
            campaign.WaitingRoomEnabled ? await WaitingRoomAsync(id, campaign) : null,
            drift?.Seats,
            drift?.CheckedAt,
            checkedIn);
    }

    /// <summary>What PostgreSQL records of the campaign's sale: seats and standing places sold, purchases by status, dead letters, revenue.</summary>
    private static async Task<Recorded> RecordedAsync(TicketSaleDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var soldSeats = await db.Tickets.AsNoTracking().Where(t => t.CampaignId == id && t.Active && t.SeatIndex != null)
            .Select(t => t.SeatIndex!.Value).ToListAsync(cancellationToken);
        var standingSold = await db.GeneralAdmissionCategories.AsNoTracking().Where(g => g.CampaignId == id)
            .ToDictionaryAsync(g => g.Id, g => g.Sold, cancellationToken);
        var purchases = await db.Purchases.AsNoTracking().Where(p => p.CampaignId == id).GroupBy(p => p.Status)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var deadLettered = await db.Purchases.CountAsync(p => p.CampaignId == id && p.Status == PurchaseStatus.Failed && p.FailureReason == PurchaseTopology.DeadLetteredReason, cancellationToken);
        var revenue = await db.Orders.Where(o => o.CampaignId == id && o.Status == OrderStatus.Confirmed).SumAsync(o => (long?)o.TotalCents, cancellationToken) ?? 0;
        var checkedIn = await db.Tickets.CountAsync(t => t.CampaignId == id && t.CheckedInAt != null, cancellationToken);
        return new Recorded(soldSeats, standingSold, purchases, deadLettered, revenue, checkedIn);
    }

    private sealed record Recorded(List<int> SoldSeats, Dictionary<Guid, int> StandingSold, Dictionary<PurchaseStatus, int> Purchases, int DeadLettered, long Revenue, int CheckedIn);

    /// <summary>Seats per price category: sold as PostgreSQL records them, held as the seat map shows taken beyond those.</summary>
    private static IEnumerable<CategoryFigures> SeatCategories(CampaignDetails campaign, Availability availability, List<int> soldSeats)
    {
        if (campaign.Venue is not { } venue)
        {
            yield break;
        }

        var sold = soldSeats.ToHashSet();
        foreach (var category in venue.Sections.GroupBy(s => s.PriceCategory))
        {
            var (capacity, soldHere, taken) = (0, 0, 0);
            foreach (var section in category)
            {
                for (var seat = section.FirstSeatIndex; seat < section.FirstSeatIndex + (section.Rows * section.SeatsPerRow); seat++)
                {
                    capacity++;
                    var isSold = sold.Contains(seat);
                    soldHere += isSold ? 1 : 0;
                    taken += isSold || (availability.Loaded && availability.IsTaken(seat)) ? 1 : 0;
                }
            }

            yield return new CategoryFigures(category.Key, CategoryKind.Seats, capacity, soldHere, taken - soldHere, capacity - taken);
        }
    }

    private async Task<WaitingRoomDashboard> WaitingRoomAsync(Guid id, CampaignDetails campaign)
    {
        var figures = await rooms.GetFiguresAsync(id);
        return new WaitingRoomDashboard(true, figures.Waiting, figures.Admitted, figures.PreQueue, campaign.AdmissionsPerSecond, campaign.PaceAdmissionsByStock);
    }

    /// <summary>Purchases accepted but not yet taken by a Worker, and dead letters not yet handled (all campaigns share the queues).</summary>
    private async Task<(long? Queued, long? DeadWaiting)> QueueLengthsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var amqp = await broker.GetAsync(cancellationToken);
            await using var channel = await amqp.CreateChannelAsync(cancellationToken: cancellationToken);
            var queue = await channel.QueueDeclarePassiveAsync(PurchaseTopology.Queue, cancellationToken);
            var dead = await channel.QueueDeclarePassiveAsync(PurchaseTopology.DeadLetterQueue, cancellationToken);
            return (queue.MessageCount, dead.MessageCount);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The dashboard still shows everything else; the broker's own health check says what is wrong.
            logger.LogWarning(ex, "The purchase queues could not be inspected for the dashboard");
            return (null, null);
        }
    }
}

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<CategoryKind>))]
public enum CategoryKind
{
    Seats,
    GeneralAdmission,
}

public sealed record CategoryFigures(string Name, CategoryKind Kind, int Capacity, int Sold, int Held, int Free);

public sealed record WaitingRoomDashboard(bool Enabled, long Waiting, long Admitted, long PreQueue, double AdmissionsPerSecond, bool PaceAdmissionsByStock);

public sealed record SalesDashboardResponse(
    Guid CampaignId,
    string Name,
    CampaignStatus Status,
    IReadOnlyList<CategoryFigures> Categories,
    long HoldsPlaced,
    int PurchasesConfirmed,
    int PurchasesFailed,
    int TicketsSold,
    long RevenueCents,
    int PurchasesPending,
    long? PurchasesQueued,
    int DeadLettered,
    long? DeadLettersWaiting,
    WaitingRoomDashboard? WaitingRoom,
    int? InventoryDriftSeats,
    DateTimeOffset? InventoryCheckedAt,
    int TicketsCheckedIn);
