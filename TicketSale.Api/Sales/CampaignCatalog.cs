using System.ComponentModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;
using TicketSale.Core.Data;
using TicketSale.Core.Messaging;

namespace TicketSale.Api.Sales;

/// <summary>
/// Campaign details, read on every hold and purchase, cached in memory and Redis (HybridCache) so a flash sale does
/// not send each request to PostgreSQL. HybridCache removes an entry from Redis and from this replica's memory
/// only, so an admin change is also announced (<see cref="CampaignChanges"/>).
/// </summary>
public sealed class CampaignCatalog(HybridCache cache, IServiceScopeFactory scopes, IConnectionMultiplexer redis)
{
    private static readonly HybridCacheEntryOptions s_entry = new() { Expiration = TimeSpan.FromMinutes(5), LocalCacheExpiration = TimeSpan.FromMinutes(1) };
    private const string ListKey = "ts:catalog:list";

    public async Task<CampaignDetails?> GetAsync(Guid campaignId, CancellationToken cancellationToken = default)
    {
        var cached = await cache.GetOrCreateAsync($"ts:catalog:campaign:{campaignId:N}", async ct =>
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
            var campaign = await db.Campaigns.AsNoTracking()
                .Include(c => c.Prices).Include(c => c.GeneralAdmission).Include(c => c.Venue!.Sections)
                .FirstOrDefaultAsync(c => c.Id == campaignId, ct);
            return campaign is null ? new CachedCampaign(null) : new CachedCampaign(CampaignDetails.From(campaign));
        }, s_entry, cancellationToken: cancellationToken);
        return cached.Campaign;
    }

    /// <summary>Published, on-sale and closed campaigns (drafts are the admin's business).</summary>
    public async Task<IReadOnlyList<CampaignSummary>> ListAsync(CancellationToken cancellationToken = default) =>
        await cache.GetOrCreateAsync(ListKey, async ct =>
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
            return await db.Campaigns.AsNoTracking()
                .Where(c => c.Status != CampaignStatus.Draft)
                .OrderBy(c => c.SaleOpensAt)
                .Take(200)
                .Select(c => new CampaignSummary(c.Id, c.Name, c.Status.ToString(), c.EventAt, c.SaleOpensAt, c.SaleClosesAt, c.Version))
                .ToListAsync(ct);
        }, s_entry, cancellationToken: cancellationToken);

    public async Task InvalidateAsync(Guid campaignId)
    {
        await RemoveLocalAsync(campaignId);
        await CampaignChanges.AnnounceAsync(redis, campaignId);
    }

    // The list first: whoever sees a campaign's new version on a replica then sees it in that replica's list too.
    internal async Task RemoveLocalAsync(Guid campaignId)
    {
        await cache.RemoveAsync(ListKey);
        await cache.RemoveAsync($"ts:catalog:campaign:{campaignId:N}");
    }

    // A wrapper so that "no such campaign" is cached too: a flood of requests for a bogus id stays off PostgreSQL.
    // Sealed and immutable, so HybridCache hands out the one instance it holds: otherwise it deserializes a fresh
    // copy on every hit, and every hold, poll and seat map would pay for a JSON read of the campaign.
    [ImmutableObject(true)]
    public sealed record CachedCampaign(CampaignDetails? Campaign);
}

public sealed record CampaignSummary(Guid Id, string Name, string Status, DateTimeOffset EventAt, DateTimeOffset SaleOpensAt, DateTimeOffset SaleClosesAt, int Version);

public sealed record CampaignDetails(
    Guid Id,
    string Name,
    string Status,
    DateTimeOffset EventAt,
    DateTimeOffset SaleOpensAt,
    DateTimeOffset SaleClosesAt,
    int PerUserLimit,
    int HoldSeconds,
    bool CancellationAllowed,
    bool WaitingRoomEnabled,
    double AdmissionsPerSecond,
    bool PaceAdmissionsByStock,
    int Version,
    VenueView? Venue,
    IReadOnlyList<PriceView> Prices,
    IReadOnlyList<GeneralAdmissionView> GeneralAdmission)
{
    public int SeatCount => Venue?.SeatCount ?? 0;

    public bool IsOnSale(DateTimeOffset now) =>
        Status == nameof(CampaignStatus.OnSale) && now >= SaleOpensAt && now < SaleClosesAt;

    /// <summary>The price of one seat, from the price category of its section.</summary>
    public long SeatPrice(int seatIndex)
    {
        var section = Venue!.Sections.Last(s => s.FirstSeatIndex <= seatIndex);
        return Prices.First(p => p.Category == section.PriceCategory).PriceCents;
    }

    public static CampaignDetails From(Campaign c) => new(
        c.Id, c.Name, c.Status.ToString(), c.EventAt, c.SaleOpensAt, c.SaleClosesAt, c.PerUserLimit, c.HoldSeconds, c.CancellationAllowed,
        c.WaitingRoomEnabled, c.AdmissionsPerSecond, c.PaceAdmissionsByStock, c.Version,
        c.Venue is null ? null : new VenueView(c.Venue.Id, c.Venue.Name, c.Venue.SeatCount,
            c.Venue.Sections.OrderBy(s => s.FirstSeatIndex).Select(s => new SectionView(s.Name, s.PriceCategory, s.Rows, s.SeatsPerRow, s.FirstSeatIndex)).ToList()),
        c.Prices.OrderBy(p => p.Category).Select(p => new PriceView(p.Category, p.PriceCents)).ToList(),
        c.GeneralAdmission.OrderBy(g => g.Name).Select(g => new GeneralAdmissionView(g.Id, g.Name, g.Capacity, g.PriceCents)).ToList());
}

public sealed record VenueView(Guid Id, string Name, int SeatCount, IReadOnlyList<SectionView> Sections);

/// <summary>Seat <c>FirstSeatIndex + (row-1) × SeatsPerRow + (number-1)</c> is row <c>row</c>, number <c>number</c>.</summary>
public sealed record SectionView(string Name, string PriceCategory, int Rows, int SeatsPerRow, int FirstSeatIndex);

public sealed record PriceView(string Category, long PriceCents);

public sealed record GeneralAdmissionView(Guid Id, string Name, int Capacity, long PriceCents);

/// <summary>Drops this replica's cached copy of a campaign when any replica announces a change to it.</summary>
public sealed class CatalogInvalidationListener(CampaignCatalog catalog, IConnectionMultiplexer redis) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        CampaignChanges.SubscribeAsync(redis, catalog.RemoveLocalAsync);

    public Task StopAsync(CancellationToken cancellationToken) => CampaignChanges.UnsubscribeAsync(redis);
}
