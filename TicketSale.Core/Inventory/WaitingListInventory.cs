using System.Globalization;
using StackExchange.Redis;
using TicketSale.Core.Redis;

namespace TicketSale.Core.Inventory;

/// <summary>
/// A campaign's waiting list in Redis, in the campaign's hash slot beside its availability: the entries still waiting
/// (a mirror of PostgreSQL's, by which the hold script keeps tickets that come back for the list and a buyer sees
/// their place) and the offers, each made by one script call that takes the tickets and records the offer together.
/// </summary>
public sealed class WaitingListInventory(IConnectionMultiplexer redis)
{
    private static readonly RedisScript s_offer = RedisScript.Load("inventory", "offer");

    private IDatabase Db => redis.GetDatabase();

    private static RedisKey Waiting(Guid campaignId) => SeatInventory.Prefix(campaignId) + ":wl";

    /// <summary>Queues, in <paramref name="tx"/>, the mirror replaced by <paramref name="waiting"/> (the rebuild's transaction, or one of its own).</summary>
    internal static void QueueReplace(ITransaction tx, Guid campaignId, IReadOnlyList<(Guid Id, long Position)> waiting)
    {
        _ = tx.KeyDeleteAsync(Waiting(campaignId));
        foreach (var chunk in waiting.Chunk(5000))
        {
            _ = tx.SortedSetAddAsync(Waiting(campaignId), [.. chunk.Select(e => new SortedSetEntry(e.Id.ToString("N"), e.Position))]);
        }
    }

    /// <summary>Offers tickets that came back to the entry as a hold of its own (offer.lua): all or nothing, and once.</summary>
    public async Task<OfferResult> OfferAsync(Guid campaignId, OfferArguments offer)
    {
        var reply = (RedisResult[])(await s_offer.EvaluateAsync(Db, [SeatInventory.Prefix(campaignId)],
        [
            offer.EntryId.ToString("N"), offer.UserId.ToString("N"), (long)offer.Ttl.TotalMilliseconds, offer.PerUserLimit,
            offer.GeneralAdmissionCategoryId?.ToString("N") ?? "", offer.Quantity, offer.SeatCount,
        ]))!;
        return (string)reply[0]! switch
        {
            "OFFERED" => new OfferResult(OfferStatus.Offered, DateTimeOffset.FromUnixTimeMilliseconds((long)reply[1]),
                ((string?)reply[2] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList()),
            "WAIT" => new OfferResult(OfferStatus.NotEnoughBack),
            "LIMIT" => new OfferResult(OfferStatus.OverLimit),
            "UNKNOWN_CATEGORY" => new OfferResult(OfferStatus.UnknownCategory),
            "NOT_LOADED" => new OfferResult(OfferStatus.NotLoaded),
            var status => throw new InvalidOperationException($"Unexpected reply from the offer script: {status}"),
        };
    }

    public Task AddAsync(Guid campaignId, Guid entryId, long position) =>
        Db.SortedSetAddAsync(Waiting(campaignId), entryId.ToString("N"), position);

    public Task RemoveAsync(Guid campaignId, Guid entryId) =>
        Db.SortedSetRemoveAsync(Waiting(campaignId), entryId.ToString("N"));

    /// <summary>The entry's place among those waiting (1 is next), or null when Redis does not have it.</summary>
    public async Task<long?> PlaceAsync(Guid campaignId, Guid entryId) =>
        await Db.SortedSetRankAsync(Waiting(campaignId), entryId.ToString("N")) is { } rank ? rank + 1 : null;

    public Task<long> CountAsync(Guid campaignId) => Db.SortedSetLengthAsync(Waiting(campaignId));

    /// <summary>Replaces the mirror with PostgreSQL's entries still waiting (after a write to one of the two was lost).</summary>
    public async Task ReplaceAsync(Guid campaignId, IReadOnlyList<(Guid Id, long Position)> waiting)
    {
        var tx = Db.CreateTransaction();
        QueueReplace(tx, campaignId, waiting);
        await tx.ExecuteAsync();
    }
}

/// <summary>What offer.lua is given: the entry (its id is the hold's), its buyer and what they want, and the campaign's rules.</summary>
public sealed record OfferArguments(Guid EntryId, Guid UserId, TimeSpan Ttl, int PerUserLimit, Guid? GeneralAdmissionCategoryId, int Quantity, int SeatCount);

public enum OfferStatus
{
    Offered,

    /// <summary>Not enough tickets have come back for the entry yet: the entries behind it wait too.</summary>
    NotEnoughBack,

    /// <summary>The buyer may not take that many more tickets (the per-person limit).</summary>
    OverLimit,

    UnknownCategory,
    NotLoaded,
}

public sealed record OfferResult(OfferStatus Status, DateTimeOffset ExpiresAt = default, IReadOnlyList<int>? Seats = null);
