using System.ComponentModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;
using TicketSale.Api.Infrastructure;
using TicketSale.Core.Data;
using TicketSale.Core.Messaging;

namespace TicketSale.Api.Sales;

/// <summary>
/// Campaign details, read on every hold and purchase, cached in memory and Redis (HybridCache) so a flash sale does
/// not send each request to PostgreSQL. HybridCache removes an entry from Redis and from this replica's memory
/// only, so an admin change is also announced (<see cref="CampaignChanges"/>).
/// </summary>
public sealed class CampaignCatalog(HybridCache cache, IServiceScopeFactory scopes, IConnectionMultiplexer redis, TimeProvider time) : IDisposable
{
    // UTC ticks of the last change announced to this replica (a long, so that it is read and written whole).
    private long _lastChange = time.GetUtcNow().UtcTicks;
    private static readonly HybridCacheEntryOptions s_entry = new() { Expiration = TimeSpan.FromMinutes(5), LocalCacheExpiration = TimeSpan.FromMinutes(1) };
    private static readonly HybridCacheEntryOptions s_listEntry = new() { Expiration = TimeSpan.FromSeconds(15), LocalCacheExpiration = TimeSpan.FromSeconds(5) };
    private const string ListKey = "ts:catalog:list";

    /// <summary>
    /// "No such campaign" is remembered on this replica only, briefly, and for a bounded number of ids: a flood of one
    /// bogus id stays off PostgreSQL, and a flood of random ones fills neither Redis nor this replica's memory.
    /// </summary>
    private readonly MemoryCache _missing = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private static readonly MemoryCacheEntryOptions s_missingEntry = new() { Size = 1, AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// The campaign, from memory, Redis or PostgreSQL. <paramref name="beforeDatabase"/>, when given, is asked before
    /// PostgreSQL is (only when no cache knows the campaign): false refuses the lookup with
    /// <see cref="CatalogLookupRefusedException"/> (a caller's rate limit).
    /// </summary>
    public Task<CampaignDetails?> GetAsync(Guid campaignId, CancellationToken cancellationToken = default) => GetAsync(campaignId, beforeDatabase: null, cancellationToken);

    public async Task<CampaignDetails?> GetAsync(Guid campaignId, Func<Task<bool>>? beforeDatabase, CancellationToken cancellationToken)
    {
        if (_missing.TryGetValue(campaignId, out _))
        {
            return null;
        }

        try
        {
            var cached = await cache.GetOrCreateAsync($"ts:catalog:campaign:{campaignId:N}", (Scopes: scopes, Id: campaignId, Admit: beforeDatabase), static async (state, ct) =>
            {
                if (state.Admit is not null && !await state.Admit())
                {
                    throw new CatalogLookupRefusedException();
                }

                await using var scope = state.Scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
                var campaign = await db.Campaigns.AsNoTracking()
                    .Include(c => c.Prices).Include(c => c.GeneralAdmission).Include(c => c.Venue!.Sections)
                    .FirstOrDefaultAsync(c => c.Id == state.Id, ct);
                // Thrown, not cached: HybridCache would keep "missing" in Redis for minutes.
                return campaign is null ? throw new CampaignMissingException() : new CachedCampaign(CampaignDetails.From(campaign));
            }, s_entry, cancellationToken: cancellationToken);
            return cached.Campaign;
        }
        catch (CampaignMissingException)
        {
            _missing.Set(campaignId, true, s_missingEntry);
            return null;
        }
    }

    /// <summary>
    /// Published, on-sale and closed campaigns (drafts are the admin's business), with their price range. Read from the
    /// standby once it holds the last change announced to this replica; the list is kept briefly, so one read from a
    /// standby that trailed a change announced elsewhere an instant later stays for <see cref="s_listEntry"/>'s time at most.
    /// </summary>
    public async Task<IReadOnlyList<CampaignListing>> ListAsync(CancellationToken cancellationToken = default) =>
        await cache.GetOrCreateAsync(ListKey, async ct =>
        {
            await using var scope = scopes.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<StaleReads>().QueryAsync(ReadListAsync, ct, changedAt: new DateTimeOffset(Interlocked.Read(ref _lastChange), TimeSpan.Zero));
        }, s_listEntry, cancellationToken: cancellationToken);

    private static async Task<IReadOnlyList<CampaignListing>> ReadListAsync(TicketSaleDbContext db, CancellationToken ct)
    {
        var rows = await db.Campaigns.AsNoTracking()
            .Where(c => c.Status != CampaignStatus.Draft)
            .OrderBy(c => c.SaleOpensAt)
            .Take(200)
            .Select(c => new
            {
                Summary = new CampaignSummary(c.Id, c.Name, c.Status, c.EventAt, c.SaleOpensAt, c.SaleClosesAt, c.Version),
                SeatsLowest = c.Prices.Min(p => (long?)p.PriceCents),
                SeatsHighest = c.Prices.Max(p => (long?)p.PriceCents),
                StandingLowest = c.GeneralAdmission.Min(g => (long?)g.PriceCents),
                StandingHighest = c.GeneralAdmission.Max(g => (long?)g.PriceCents),
            })
            .ToListAsync(ct);
        return rows.Select(r => CampaignListing.From(r.Summary,
            new[] { r.SeatsLowest, r.StandingLowest }.Min(), new[] { r.SeatsHighest, r.StandingHighest }.Max())).ToList();
    }

    public void Dispose() => _missing.Dispose();

    public async Task InvalidateAsync(Guid campaignId)
    {
        await RemoveLocalAsync(campaignId);
        await CampaignChanges.AnnounceAsync(redis, campaignId);
    }

    // The list first: whoever sees a campaign's new version on a replica then sees it in that replica's list too.
    internal async Task RemoveLocalAsync(Guid campaignId)
    {
        // Announced after the change committed: a standby that has replayed up to this moment holds it.
        Interlocked.Exchange(ref _lastChange, time.GetUtcNow().UtcTicks);
        _missing.Remove(campaignId);
        await cache.RemoveAsync(ListKey);
        await cache.RemoveAsync($"ts:catalog:campaign:{campaignId:N}");
    }

    // Sealed and immutable, so HybridCache hands out the one instance it holds: otherwise it deserializes a fresh
    // copy on every hit, and every hold, poll and seat map would pay for a JSON read of the campaign.
    [ImmutableObject(true)]
    public sealed record CachedCampaign(CampaignDetails? Campaign);
}

/// <summary>A lookup refused by its caller's <c>beforeDatabase</c> check.</summary>
public sealed class CatalogLookupRefusedException() : Exception("The campaign lookup was refused by its caller's limit.");

internal sealed class CampaignMissingException() : Exception("No such campaign.");

public sealed record CampaignSummary(Guid Id, string Name, CampaignStatus Status, DateTimeOffset EventAt, DateTimeOffset SaleOpensAt, DateTimeOffset SaleClosesAt, int Version);

/// <summary>
/// A campaign in the public list: its dates, the price of its cheapest and dearest ticket and, while on sale, the
/// tickets left (from Redis when the list is asked for: the list itself is cached).
/// </summary>
public sealed record CampaignListing(Guid Id, string Name, CampaignStatus Status, DateTimeOffset EventAt, DateTimeOffset SaleOpensAt, DateTimeOffset SaleClosesAt, int Version,
    long? LowestPriceCents, long? HighestPriceCents, int? TicketsLeft = null)
{
    public static CampaignListing From(CampaignSummary c, long? lowest, long? highest) =>
        new(c.Id, c.Name, c.Status, c.EventAt, c.SaleOpensAt, c.SaleClosesAt, c.Version, lowest, highest);
}

public sealed record CampaignDetails(
    Guid Id,
    string Name,
    CampaignStatus Status,
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
        Status == CampaignStatus.OnSale && now >= SaleOpensAt && now < SaleClosesAt;

    /// <summary>The price of one seat, from the price category of its section.</summary>
    public long SeatPrice(int seatIndex) => Prices.First(p => p.Category == SeatCategory(seatIndex)).PriceCents;

    /// <summary>The price category of a seat's section.</summary>
    public string SeatCategory(int seatIndex) => Venue!.Sections.Last(s => s.FirstSeatIndex <= seatIndex).PriceCategory;

    /// <summary>
    /// The tickets a hold buys, each with its category (the seat's price category, or the general-admission
    /// category's name) and its price.
    /// </summary>
    public IReadOnlyList<PricedTicket> TicketsOf(IReadOnlyList<int> seats, Guid? generalAdmissionCategoryId, int quantity) =>
        generalAdmissionCategoryId is { } id && GeneralAdmission.FirstOrDefault(g => g.Id == id) is { } category
            ? Enumerable.Repeat(new PricedTicket(category.Name, category.PriceCents), quantity).ToList()
            : seats.Select(seat => new PricedTicket(SeatCategory(seat), SeatPrice(seat))).ToList();

    public static CampaignDetails From(Campaign c) => new(
        c.Id, c.Name, c.Status, c.EventAt, c.SaleOpensAt, c.SaleClosesAt, c.PerUserLimit, c.HoldSeconds, c.CancellationAllowed,
        c.WaitingRoomEnabled, c.AdmissionsPerSecond, c.PaceAdmissionsByStock, c.Version,
        c.Venue is null ? null : new VenueView(c.Venue.Id, c.Venue.Name, c.Venue.SeatCount,
            c.Venue.Sections.OrderBy(s => s.FirstSeatIndex).Select(s => new SectionView(s.Name, s.PriceCategory, s.Rows, s.SeatsPerRow, s.FirstSeatIndex)).ToList()),
        c.Prices.OrderBy(p => p.Category).Select(p => new PriceView(p.Category, p.PriceCents)).ToList(),
        c.GeneralAdmission.OrderBy(g => g.Name).Select(g => new GeneralAdmissionView(g.Id, g.Name, g.Capacity, g.PriceCents)).ToList());
}

public sealed record VenueView(Guid Id, string Name, int SeatCount, IReadOnlyList<SectionView> Sections);

/// <summary>Seat <c>FirstSeatIndex + (row-1) × SeatsPerRow + (number-1)</c> is row <c>row</c>, number <c>number</c>.</summary>
/// <summary>One ticket of a hold: its price category and price.</summary>
public readonly record struct PricedTicket(string Category, long PriceCents);

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
