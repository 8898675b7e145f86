using System.Globalization;
using StackExchange.Redis;
using TicketSale.Core.Redis;

namespace TicketSale.Core.Inventory;

/// <summary>
/// Seat and general-admission availability in Redis: the fast path. Every change is one Lua script, so it is atomic
/// across all Api replicas. PostgreSQL stays the source of truth; <see cref="RebuildAsync"/> restores this from it.
/// </summary>
public sealed class SeatInventory(IConnectionMultiplexer redis)
{
    private static readonly RedisScript s_hold = RedisScript.Load("buckets", "inventory", "hold");
    private static readonly RedisScript s_pin = RedisScript.Load("buckets", "inventory", "pin");
    private static readonly RedisScript s_unpin = RedisScript.Load("inventory", "unpin");
    private static readonly RedisScript s_release = RedisScript.Load("inventory", "release");
    private static readonly RedisScript s_sweep = RedisScript.Load("inventory", "sweep");
    private static readonly RedisScript s_confirm = RedisScript.Load("inventory", "confirm");
    private static readonly RedisScript s_return = RedisScript.Load("inventory", "return");

    /// <summary>The hold script as Redis runs it: the benchmark measures Redis alone running it.</summary>
    public static string HoldScript => s_hold.Text;

    /// <summary>Campaigns whose holds the Worker's sweeper watches.</summary>
    public const string ActiveCampaignsKey = "ts:campaigns:active";

    private IDatabase Db => redis.GetDatabase();

    public static string Prefix(Guid campaignId) => $"ts:{{{campaignId:N}}}";

    public static RedisChannel ChangesChannel(Guid campaignId) => RedisChannel.Literal(Prefix(campaignId) + ":changes");

    /// <summary>
    /// Places a hold in one script call (hold.lua): the rate limit, the admission, every seat free or enough general
    /// admission left, the per-user limit, and the hold's expiry.
    /// </summary>
    public async Task<HoldResult> HoldAsync(Guid campaignId, HoldArguments arguments) =>
        HoldResult.FromReply((RedisResult[])(await s_hold.EvaluateAsync(Db, [Prefix(campaignId)], arguments.ToScriptArguments()))!);

    /// <summary>
    /// Pins <paramref name="userId"/>'s hold to a purchase until <paramref name="until"/>, after the rate limit of
    /// <paramref name="buckets"/> (keys in the campaign's hash slot), and says what the hold is (its seats, or its
    /// general-admission category and quantity): one round trip for the three.
    /// </summary>
    public async Task<PinResult> PinAsync(Guid campaignId, Guid holdId, Guid userId, Guid purchaseId, DateTimeOffset until,
        IReadOnlyList<RateLimiting.TokenBucket> buckets)
    {
        RedisValue[] args = [holdId.ToString("N"), userId.ToString("N"), purchaseId.ToString("N"), until.ToUnixTimeMilliseconds(),
            .. RateLimiting.TokenBuckets.Arguments(buckets)];
        var reply = (RedisResult[])(await s_pin.EvaluateAsync(Db, [Prefix(campaignId)], args))!;
        var rate = RateLimiting.TokenBuckets.Decision(reply);
        if (!rate.Allowed)
        {
            return new PinResult(PinStatus.RateLimited) { Rate = rate };
        }

        var result = (string)reply[4]! switch
        {
            "OK" => new PinResult(PinStatus.Pinned,
                ParseSeats((string?)reply[5]),
                string.IsNullOrEmpty((string?)reply[6]) ? null : Guid.Parse((string)reply[6]!),
                int.Parse((string)reply[7]!, CultureInfo.InvariantCulture)),
            "EXPIRED" => new PinResult(PinStatus.Expired),
            "OTHER_PURCHASE" => new PinResult(PinStatus.OtherPurchase) { OtherPurchaseId = Guid.Parse((string)reply[5]!) },
            _ => new PinResult(PinStatus.NotFound),
        };
        return result with { Rate = rate };
    }

    public Task UnpinAsync(Guid campaignId, Guid holdId, Guid purchaseId) =>
        s_unpin.EvaluateAsync(Db, [Prefix(campaignId)], [holdId.ToString("N"), purchaseId.ToString("N")]);

    /// <summary>Releases a hold: 1 released, 0 nothing to release (or pinned by a purchase), -1 someone else's.</summary>
    public async Task<int> ReleaseAsync(Guid campaignId, Guid holdId, Guid? ownerId, bool force)
    {
        var reply = await s_release.EvaluateAsync(Db, [Prefix(campaignId)],
            [holdId.ToString("N"), ownerId?.ToString("N") ?? "", force ? "1" : "0"]);
        return (int)reply;
    }

    public async Task<int> SweepExpiredAsync(Guid campaignId, int limit) =>
        (int)await s_sweep.EvaluateAsync(Db, [Prefix(campaignId)], [limit]);

    public Task ConfirmAsync(Guid campaignId, Guid orderId, Guid holdId, Guid userId, Guid? generalAdmissionCategoryId, int quantity, IReadOnlyCollection<int> seats)
    {
        var args = new List<RedisValue>
        {
            orderId.ToString("N"), holdId.ToString("N"), userId.ToString("N"), generalAdmissionCategoryId?.ToString("N") ?? "", quantity,
        };
        args.AddRange(seats.Select(s => (RedisValue)s));
        return s_confirm.EvaluateAsync(Db, [Prefix(campaignId)], [.. args]);
    }

    /// <summary>
    /// Puts a cancelled order's tickets back on sale, once: also when its confirmation has not reached Redis yet (the
    /// seats are still its hold's, <paramref name="holdId"/>), and not again when the cancellation is retried.
    /// </summary>
    public Task ReturnAsync(Guid campaignId, Guid orderId, Guid holdId, Guid userId, Guid? generalAdmissionCategoryId, int quantity, IReadOnlyCollection<int> seats)
    {
        var args = new List<RedisValue>
        {
            orderId.ToString("N"), holdId.ToString("N"), userId.ToString("N"), generalAdmissionCategoryId?.ToString("N") ?? "", quantity,
        };
        args.AddRange(seats.Select(s => (RedisValue)s));
        return s_return.EvaluateAsync(Db, [Prefix(campaignId)], [.. args]);
    }

    public async Task<HoldInfo?> GetHoldAsync(Guid campaignId, Guid holdId)
    {
        var fields = await Db.HashGetAllAsync($"{Prefix(campaignId)}:hold:{holdId:N}");
        if (fields.Length == 0)
        {
            return null;
        }

        var map = fields.ToDictionary(f => (string)f.Name!, f => (string?)f.Value);
        return new HoldInfo(
            holdId,
            Guid.Parse(map["user"]!),
            ParseSeats(map.GetValueOrDefault("seats")),
            string.IsNullOrEmpty(map.GetValueOrDefault("ga")) ? null : Guid.Parse(map["ga"]!),
            int.Parse(map.GetValueOrDefault("qty") ?? "0", CultureInfo.InvariantCulture),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(map["exp"]!, CultureInfo.InvariantCulture)),
            string.IsNullOrEmpty(map.GetValueOrDefault("purchase")) ? null : Guid.Parse(map["purchase"]!));
    }

    /// <summary>
    /// Holds whose time is up, the oldest first: those still pinned to a purchase are the ones the hold script leaves
    /// alone (their purchase decides), and so are what the purchase sweeper looks at.
    /// </summary>
    public async Task<IReadOnlyList<HoldInfo>> GetLapsedHoldsAsync(Guid campaignId, DateTimeOffset now, int limit)
    {
        var ids = await Db.SortedSetRangeByScoreAsync($"{Prefix(campaignId)}:holds", double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: limit);
        var holds = new List<HoldInfo>(ids.Length);
        foreach (var id in ids)
        {
            if (await GetHoldAsync(campaignId, Guid.Parse((string)id!)) is { } hold)
            {
                holds.Add(hold);
            }
        }

        return holds;
    }

    /// <summary>A hold's seats as the scripts store them: comma-separated seat indexes.</summary>
    private static List<int> ParseSeats(string? csv) =>
        (csv ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();

    /// <summary>
    /// Redis runs one command at a time: an HMGET of a sold-out campaign's 20,000 seats held every other client up
    /// for 5-28 ms (SLOWLOG, during and after the bench's flash sale). Asked a chunk at a time, one after another,
    /// the other clients' commands run in between.
    /// </summary>
    public const int SeatStatesPerCommand = 1000;

    /// <summary>Who holds or bought each of <paramref name="seats"/>, in the order asked: "H:&lt;hold&gt;", "S:&lt;order&gt;" or null when free.</summary>
    public async Task<IReadOnlyList<string?>> GetSeatStatesAsync(Guid campaignId, IReadOnlyList<int> seats)
    {
        var key = $"{Prefix(campaignId)}:seats";
        var states = new List<string?>(seats.Count);
        foreach (var chunk in seats.Chunk(SeatStatesPerCommand))
        {
            states.AddRange((await Db.HashGetAsync(key, [.. chunk.Select(s => (RedisValue)s)])).Select(v => (string?)v));
        }

        return states;
    }

    /// <summary>
    /// The seats Redis shows sold, and to which order: the seat hash read a page at a time (HSCAN), so that Redis
    /// serves other clients between pages, as with <see cref="GetSeatStatesAsync"/>.
    /// </summary>
    public async Task<Dictionary<int, Guid>> GetSoldSeatsAsync(Guid campaignId)
    {
        var sold = new Dictionary<int, Guid>();
        await foreach (var entry in Db.HashScanAsync($"{Prefix(campaignId)}:seats", pageSize: SeatStatesPerCommand))
        {
            if (((string?)entry.Value) is ['S', ':', .. var order] && Guid.TryParseExact(order, "N", out var orderId))
            {
                sold[(int)entry.Name] = orderId;
            }
        }

        return sold;
    }

    /// <summary>Holds placed since the campaign's availability was loaded (a counter the hold script keeps).</summary>
    public async Task<long> GetHoldsPlacedAsync(Guid campaignId) => (long?)await Db.StringGetAsync($"{Prefix(campaignId)}:stats:holds") ?? 0;

    /// <summary>Keeps the drift check's finding for the organizer's dashboard.</summary>
    public Task RecordDriftAsync(Guid campaignId, int seats, DateTimeOffset at) =>
        Db.HashSetAsync($"{Prefix(campaignId)}:drift", [new("seats", seats), new("at", at.ToUnixTimeMilliseconds())]);

    /// <summary>The drift check's last finding for the campaign, if it ran since the campaign was loaded.</summary>
    public async Task<InventoryDrift?> GetDriftAsync(Guid campaignId)
    {
        var values = await Db.HashGetAsync($"{Prefix(campaignId)}:drift", ["seats", "at"]);
        return (int?)values[0] is { } seats && (long?)values[1] is { } at ? new InventoryDrift(seats, DateTimeOffset.FromUnixTimeMilliseconds(at)) : null;
    }

    public async Task<long> GetVersionAsync(Guid campaignId) => (long?)await Db.StringGetAsync($"{Prefix(campaignId)}:ver") ?? 0;

    public async Task<bool> IsLoadedAsync(Guid campaignId) => await Db.KeyExistsAsync($"{Prefix(campaignId)}:loaded");

    /// <summary>The compact seat map: a bitmap with one bit per seat (set = unavailable) and what is left per category.</summary>
    public async Task<Availability> GetAvailabilityAsync(Guid campaignId, int seatCount, IReadOnlyList<Guid> generalAdmissionCategories)
    {
        var prefix = Prefix(campaignId);
        var batch = Db.CreateBatch();
        var version = batch.StringGetAsync($"{prefix}:ver");
        var taken = batch.StringGetAsync($"{prefix}:taken");
        var loaded = batch.KeyExistsAsync($"{prefix}:loaded");
        var left = batch.StringGetAsync(generalAdmissionCategories.Select(c => (RedisKey)$"{prefix}:ga:{c:N}").ToArray());
        batch.Execute();

        var bitmap = new byte[(seatCount + 7) / 8];
        var stored = (byte[]?)await taken ?? [];
        Array.Copy(stored, bitmap, Math.Min(stored.Length, bitmap.Length));
        var leftValues = await left;
        return new Availability(
            await loaded,
            (long?)await version ?? 0,
            bitmap,
            generalAdmissionCategories.Select((c, i) => (c, (int?)leftValues[i] ?? 0)).ToDictionary(x => x.c, x => x.Item2));
    }

    /// <summary>
    /// Tickets left in each campaign — free seats (a BITCOUNT of the seat bitmap) and general admission — in one
    /// round trip for them all; null for a campaign Redis has not loaded.
    /// </summary>
    public async Task<IReadOnlyList<int?>> GetTicketsLeftAsync(IReadOnlyList<(Guid CampaignId, int SeatCount, IReadOnlyList<Guid> Categories)> campaigns)
    {
        var batch = Db.CreateBatch();
        var reads = campaigns.Select(c =>
        {
            var prefix = Prefix(c.CampaignId);
            return (Loaded: batch.KeyExistsAsync($"{prefix}:loaded"), Taken: batch.StringBitCountAsync($"{prefix}:taken"),
                Left: batch.StringGetAsync(c.Categories.Select(g => (RedisKey)$"{prefix}:ga:{g:N}").ToArray()));
        }).ToList();
        batch.Execute();
        var left = new List<int?>(campaigns.Count);
        foreach (var (campaign, read) in campaigns.Zip(reads))
        {
            left.Add(await read.Loaded
                ? campaign.SeatCount - (int)await read.Taken + (await read.Left).Sum(v => Math.Max(0, (int?)v ?? 0))
                : null);
        }

        return left;
    }

    /// <summary>
    /// Rebuilds a campaign's availability from the truth in PostgreSQL, keeping the holds Redis still has that do not
    /// clash with a sale. Optimistic: the truth is read after the inventory version, and the rebuild is written only
    /// if that version has not moved meanwhile — otherwise a sale confirmed in between could be missed — so it
    /// reads again and retries.
    /// </summary>
    public async Task<RebuildSummary> RebuildAsync(Guid campaignId, Func<CancellationToken, Task<InventorySnapshot>> readTruth, CancellationToken cancellationToken = default)
    {
        var prefix = Prefix(campaignId);
        for (var attempt = 0; ; attempt++)
        {
            var version = await Db.StringGetAsync($"{prefix}:ver");
            var truth = await readTruth(cancellationToken);
            var holdIds = await Db.SortedSetRangeByRankAsync($"{prefix}:holds");
            var holds = new List<HoldInfo>();
            foreach (var id in holdIds)
            {
                if (await GetHoldAsync(truth.CampaignId, Guid.Parse((string)id!)) is { } hold)
                {
                    holds.Add(hold);
                }
            }

            var userKeys = new List<RedisKey>();
            foreach (var server in redis.GetServers())
            {
                await foreach (var key in server.KeysAsync(pattern: $"{prefix}:user:*"))
                {
                    userKeys.Add(key);
                }
            }

            var seats = new HashEntry[truth.SoldSeats.Count];
            var bitmap = new byte[(truth.SeatCount + 7) / 8];
            var i = 0;
            foreach (var (seat, order) in truth.SoldSeats)
            {
                seats[i++] = new HashEntry(seat, "S:" + order.ToString("N"));
                bitmap[seat / 8] |= (byte)(0x80 >> (seat % 8));
            }

            var seatEntries = seats.ToList();
            var perUser = truth.TicketsPerUser.ToDictionary(kv => kv.Key, kv => kv.Value);
            var gaLeft = truth.GeneralAdmission.ToDictionary(g => g.Id, g => g.Capacity - g.Sold);
            var kept = new List<HoldInfo>();
            foreach (var hold in holds)
            {
                var clashes = hold.Seats.Any(s => s >= truth.SeatCount || (bitmap[s / 8] & (0x80 >> (s % 8))) != 0)
                    || (hold.GeneralAdmissionCategoryId is { } ga && (!gaLeft.TryGetValue(ga, out var left) || left < hold.Quantity));
                if (clashes)
                {
                    continue;
                }

                kept.Add(hold);
                foreach (var s in hold.Seats)
                {
                    seatEntries.Add(new HashEntry(s, "H:" + hold.HoldId.ToString("N")));
                    bitmap[s / 8] |= (byte)(0x80 >> (s % 8));
                }

                if (hold.GeneralAdmissionCategoryId is { } category)
                {
                    gaLeft[category] -= hold.Quantity;
                }

                perUser[hold.UserId] = perUser.GetValueOrDefault(hold.UserId) + hold.Seats.Count + (hold.GeneralAdmissionCategoryId is null ? 0 : hold.Quantity);
            }

            var tx = Db.CreateTransaction();
            tx.AddCondition(version.IsNull ? Condition.KeyNotExists($"{prefix}:ver") : Condition.StringEqual($"{prefix}:ver", version));
            _ = tx.KeyDeleteAsync([$"{prefix}:seats", $"{prefix}:taken", $"{prefix}:holds", $"{prefix}:orders", .. userKeys,
                .. holds.Where(h => !kept.Contains(h)).Select(h => (RedisKey)$"{prefix}:hold:{h.HoldId:N}")]);
            foreach (var chunk in seatEntries.Chunk(5000))
            {
                _ = tx.HashSetAsync($"{prefix}:seats", chunk);
            }

            _ = tx.StringSetAsync($"{prefix}:taken", bitmap);
            foreach (var chunk in truth.Orders.Chunk(5000))
            {
                _ = tx.HashSetAsync($"{prefix}:orders", [.. chunk.Select(o => new HashEntry(o.Id.ToString("N"), o.Cancelled ? "R" : "S"))]);
            }

            foreach (var hold in kept)
            {
                _ = tx.SortedSetAddAsync($"{prefix}:holds", hold.HoldId.ToString("N"), hold.ExpiresAt.ToUnixTimeMilliseconds());
            }

            WaitingListInventory.QueueReplace(tx, truth.CampaignId, truth.WaitingList);

            foreach (var (category, left) in gaLeft)
            {
                _ = tx.StringSetAsync($"{prefix}:ga:{category:N}", left);
            }

            foreach (var (user, count) in perUser.Where(kv => kv.Value > 0))
            {
                _ = tx.StringSetAsync($"{prefix}:user:{user:N}", count);
            }

            _ = tx.StringSetAsync($"{prefix}:loaded", "1");
            var rebuilt = Math.Max(((long?)version ?? 0) + 1, await RedisMicrosecondsAsync());
            _ = tx.StringSetAsync($"{prefix}:ver", rebuilt);
            _ = tx.SetAddAsync(ActiveCampaignsKey, truth.CampaignId.ToString("N"));
            // Every open seat map fetches the map again on this event: whatever it showed may have changed.
            _ = tx.PublishAsync(ChangesChannel(truth.CampaignId), $"{rebuilt} rebuilt *");
            if (await tx.ExecuteAsync())
            {
                return new RebuildSummary(truth.SoldSeats.Count, kept.Count, holds.Count - kept.Count);
            }

            if (attempt >= 20)
            {
                throw new InventoryUnavailableException(campaignId);
            }
        }
    }

    /// <summary>
    /// Redis's clock in microseconds: a rebuilt version is at least this, so versions never go back when Redis lost
    /// the campaign's version with the rest (a page that had seen version 57 would ignore every change up to 57).
    /// Changes between two rebuilds would have to come faster than one a microsecond to catch up with it.
    /// </summary>
    private async Task<long> RedisMicrosecondsAsync()
    {
        var time = (RedisResult[])(await Db.ExecuteAsync("TIME"))!;
        return (long)time[0] * 1_000_000 + (long)time[1];
    }

    /// <summary>Takes the campaign's rebuild lock; returns its token, or null when another rebuild holds it.</summary>
    public async Task<string?> TryLockRebuildAsync(Guid campaignId, TimeSpan lease)
    {
        var token = Guid.NewGuid().ToString("N");
        return await Db.StringSetAsync($"{Prefix(campaignId)}:rebuilding", token, lease, When.NotExists) ? token : null;
    }

    public Task UnlockRebuildAsync(Guid campaignId, string token) =>
        Db.LockReleaseAsync($"{Prefix(campaignId)}:rebuilding", token);

    /// <summary>Forgets a campaign's availability (closed campaigns, tests).</summary>
    public async Task DeactivateAsync(Guid campaignId) =>
        await Db.SetRemoveAsync(ActiveCampaignsKey, campaignId.ToString("N"));

    public async Task<IReadOnlyList<Guid>> GetActiveCampaignsAsync() =>
        (await Db.SetMembersAsync(ActiveCampaignsKey)).Select(v => Guid.Parse((string)v!)).ToList();

}

public enum PinStatus
{
    Pinned,
    NotFound,
    Expired,
    OtherPurchase,
    RateLimited,
}

/// <summary>A pin's outcome; once pinned, what the hold is.</summary>
public sealed record PinResult(PinStatus Status, IReadOnlyList<int> Seats, Guid? GeneralAdmissionCategoryId, int Quantity)
{
    public PinResult(PinStatus status)
        : this(status, [], null, 0)
    {
    }

    public Guid? OtherPurchaseId { get; init; }

    /// <summary>The rate limit's decision on the purchase.</summary>
    public RateLimiting.RateDecision? Rate { get; init; }
}

public sealed record HoldInfo(Guid HoldId, Guid UserId, IReadOnlyList<int> Seats, Guid? GeneralAdmissionCategoryId, int Quantity, DateTimeOffset ExpiresAt, Guid? PurchaseId);

/// <summary>Sold seats on which Redis and PostgreSQL disagreed at the last check, and when it ran.</summary>
public sealed record InventoryDrift(int Seats, DateTimeOffset CheckedAt);

public sealed record Availability(bool Loaded, long Version, byte[] TakenBitmap, IReadOnlyDictionary<Guid, int> GeneralAdmissionLeft)
{
    /// <summary>Whether the seat map shows the seat held or sold (bit set, most significant bit first).</summary>
    public bool IsTaken(int seat) => seat >> 3 < TakenBitmap.Length && (TakenBitmap[seat >> 3] & (0x80 >> (seat & 7))) != 0;
}

/// <summary>
/// What PostgreSQL says about a campaign: the seats sold (seat → order), general admission sold, its orders
/// (cancelled or not) and its waiting list's entries still waiting.
/// </summary>
public sealed record InventorySnapshot(
    Guid CampaignId,
    int SeatCount,
    IReadOnlyDictionary<int, Guid> SoldSeats,
    IReadOnlyList<(Guid Id, int Capacity, int Sold)> GeneralAdmission,
    IReadOnlyDictionary<Guid, int> TicketsPerUser,
    IReadOnlyList<(Guid Id, bool Cancelled)> Orders,
    IReadOnlyList<(Guid Id, long Position)> WaitingList);

public sealed record RebuildSummary(int SoldSeats, int HoldsKept, int HoldsDropped);
