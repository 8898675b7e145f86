using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;

namespace TicketSale.Worker.Inventory;

/// <summary>
/// Offers tickets that came back (expired holds, failed purchases, cancelled orders) to each sold-out campaign's
/// waiting list, strictly in the order of joining: the first entry waiting gets the next tickets as a hold of its own,
/// and the entries behind it wait until it has been served. One Worker at a time serves a campaign (an advisory lock);
/// the entries are locked while their offers are made, so a buyer leaving meanwhile waits for the outcome. An offer is
/// made in Redis by one script (tickets taken and offer recorded together, once per entry) and then kept in PostgreSQL
/// with the e-mail that tells the buyer; a Worker stopped between the two makes the same offer again next time.
/// </summary>
public sealed partial class WaitingListPump(IServiceScopeFactory scopes, WaitingListInventory list, IOptions<InventoryJobOptions> options,
    TimeProvider time, ILogger<WaitingListPump> logger) : BackgroundService
{
    private const int EntriesPerPass = 50;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.WaitingListInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
                foreach (var campaignId in await CampaignsWithWaitersAsync(db, time.GetUtcNow(), stoppingToken))
                {
                    await ServeAsync(scope.ServiceProvider, db, campaignId, stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPassFailed(logger, ex);
            }
        }
    }

    /// <summary>
    /// Campaigns on sale with buyers waiting (a closed sale's list is left as it was). Asked untraced: a look every
    /// second would be a trace of its own each time; the offers are traced.
    /// </summary>
    private static async Task<List<Guid>> CampaignsWithWaitersAsync(TicketSaleDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var untraced = OpenTelemetry.SuppressInstrumentationScope.Begin();
        return await db.Campaigns
            .Where(c => c.Status == CampaignStatus.OnSale && c.SaleOpensAt <= now && now < c.SaleClosesAt)
            .Where(c => db.WaitingListEntries.Any(e => e.CampaignId == c.Id && e.Status == WaitingListStatus.Waiting))
            .Select(c => c.Id)
            .ToListAsync(cancellationToken);
    }

    private async Task ServeAsync(IServiceProvider services, TicketSaleDbContext db, Guid campaignId, CancellationToken cancellationToken)
    {
        var campaign = await db.Campaigns.AsNoTracking().Where(c => c.Id == campaignId)
            .Select(c => new { c.PerUserLimit, c.HoldSeconds, SeatCount = c.Venue == null ? 0 : c.Venue.SeatCount })
            .FirstAsync(cancellationToken);

        var reload = false;
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            reload = false;
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var key = $"waiting-list:{campaignId:N}";
            if (!await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_xact_lock(hashtextextended({key}, 0)) AS \"Value\"").SingleAsync(cancellationToken))
            {
                return;
            }

            var entries = await db.WaitingListEntries
                .FromSql($"""
                    SELECT * FROM "WaitingListEntries" WHERE "CampaignId" = {campaignId} AND "Status" = 'Waiting'
                    ORDER BY "Position" LIMIT {EntriesPerPass} FOR UPDATE
                    """)
                .ToListAsync(cancellationToken);
            foreach (var entry in entries)
            {
                var offer = await list.OfferAsync(campaignId, new OfferArguments(entry.Id, entry.UserId, TimeSpan.FromSeconds(campaign.HoldSeconds),
                    campaign.PerUserLimit, entry.GeneralAdmissionCategoryId, entry.Quantity, campaign.SeatCount));
                if (offer.Status == OfferStatus.Offered)
                {
                    entry.Status = WaitingListStatus.Offered;
                    entry.OfferedAt = time.GetUtcNow();
                    entry.OfferExpiresAt = offer.ExpiresAt;
                    db.OutboxMessages.Add(OutboxMessage.For(OrderEvents.WaitingListOffered, campaignId, entry.Id, entry.OfferedAt.Value));
                    LogOffered(logger, entry.Id, campaignId, entry.Position, offer.ExpiresAt);
                    continue;
                }

                if (offer.Status is OfferStatus.OverLimit or OfferStatus.UnknownCategory)
                {
                    entry.Status = WaitingListStatus.Passed;
                    await list.RemoveAsync(campaignId, entry.Id);
                    continue;
                }

                // Not enough back yet: those behind wait their turn too. Or Redis lost the campaign: load it first.
                reload = offer.Status == OfferStatus.NotLoaded;
                break;
            }

            await db.SaveChangesAsync(cancellationToken);
            // A write to the mirror lost (an Api stopped between its commit and Redis) shows as a different count.
            var waiting = await db.WaitingListEntries.CountAsync(e => e.CampaignId == campaignId && e.Status == WaitingListStatus.Waiting, cancellationToken);
            if (waiting != await list.CountAsync(campaignId))
            {
                var loader = services.GetRequiredService<InventoryLoader>();
                await list.ReplaceAsync(campaignId, await loader.ReadWaitingListAsync(campaignId, cancellationToken));
            }

            await transaction.CommitAsync(cancellationToken);
        });

        if (reload)
        {
            await services.GetRequiredService<InventoryLoader>().EnsureLoadedAsync(campaignId, cancellationToken);
        }
    }

    [LoggerMessage(LogLevel.Information, "Waiting-list entry {EntryId} of campaign {CampaignId} (position {Position}) offered tickets until {ExpiresAt}")]
    private static partial void LogOffered(ILogger logger, Guid entryId, Guid campaignId, long position, DateTimeOffset expiresAt);

    [LoggerMessage(LogLevel.Warning, "The waiting lists could not be served; the next pass tries again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
