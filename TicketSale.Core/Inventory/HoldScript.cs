using StackExchange.Redis;
using TicketSale.Core.RateLimiting;

namespace TicketSale.Core.Inventory;

/// <summary>
/// What hold.lua is given: the hold, its owner and limits, the rate-limit buckets (keys under the campaign's
/// <c>:rl:</c>), and the seats, or a general-admission category and quantity. <see cref="ToScriptArguments"/> owns
/// the layout of ARGV, as <see cref="HoldResult.FromReply"/> owns the reply's.
/// </summary>
public readonly record struct HoldArguments(
    Guid HoldId,
    Guid UserId,
    TimeSpan Ttl,
    int PerUserLimit,
    Guid? GeneralAdmissionCategoryId,
    int Quantity,
    IReadOnlyCollection<int> Seats,
    IReadOnlyList<TokenBucket> Buckets,
    bool AdmissionRequired)
{
    /// <summary>
    /// ARGV: hold id, user id, ttl ms, per-user limit, ga category ('' for seats), ga quantity, admission required
    /// (0|1), the buckets (count, then suffix, capacity, per second each), seat index…
    /// </summary>
    public RedisValue[] ToScriptArguments()
    {
        // One array, written once: a list copied into the array the client takes was about 6% of the bytes the Api
        // allocated per hold (an allocation profile of api-0 under `./bench.sh --scenarios hot --connections 256`).
        var bucketArguments = TokenBuckets.ArgumentCount(Buckets);
        var args = new RedisValue[7 + bucketArguments + Seats.Count];
        args[0] = HoldId.ToString("N");
        args[1] = UserId.ToString("N");
        args[2] = (long)Ttl.TotalMilliseconds;
        args[3] = PerUserLimit;
        args[4] = GeneralAdmissionCategoryId?.ToString("N") ?? "";
        args[5] = Quantity;
        args[6] = AdmissionRequired ? 1 : 0;
        TokenBuckets.WriteArguments(Buckets, args.AsSpan(7, bucketArguments));
        var next = 7 + bucketArguments;
        foreach (var seat in Seats)
        {
            args[next++] = seat;
        }

        return args;
    }
}

public enum HoldStatus
{
    Held,
    RateLimited,
    Taken,
    OverLimit,
    SoldOut,
    UnknownCategory,
    NotLoaded,

    /// <summary>Behind a waiting room, the visitor's admission has ended (they left, or it lapsed).</summary>
    NotAdmitted,

    /// <summary>Buyers are on the campaign's waiting list: tickets that come back are theirs first.</summary>
    WaitingList,
}

public sealed record HoldResult(HoldStatus Status)
{
    public DateTimeOffset ExpiresAt { get; init; }

    public IReadOnlyList<int> TakenSeats { get; init; } = [];

    /// <summary>For <see cref="HoldStatus.OverLimit"/>: tickets still allowed; for <see cref="HoldStatus.SoldOut"/>: tickets left.</summary>
    public int Remaining { get; init; }

    /// <summary>The rate-limit decision taken in the same script (tokens left, or when to come back).</summary>
    public RateDecision? Rate { get; init; }

    public static HoldResult Held(DateTimeOffset expiresAt) => new(HoldStatus.Held) { ExpiresAt = expiresAt };

    public static HoldResult Taken(IReadOnlyList<int> seats) => new(HoldStatus.Taken) { TakenSeats = seats };

    public static HoldResult OverLimit(int allowed) => new(HoldStatus.OverLimit) { Remaining = allowed };

    public static HoldResult SoldOut(int left) => new(HoldStatus.SoldOut) { Remaining = left };

    /// <summary>
    /// hold.lua's reply: {'OK', expires-at ms, tokens left, bucket capacity} | {'RATE', retry-after ms, bucket capacity}
    /// | {'NOT_LOADED'} | {'NOT_ADMITTED'} | {'WAITLIST'} | {'LIMIT', tickets still allowed} | {'SOLD_OUT', left} | {'UNKNOWN_CATEGORY'}
    /// | {'TAKEN', seat…}.
    /// </summary>
    public static HoldResult FromReply(RedisResult[] reply) => (string)reply[0]! switch
    {
        "OK" => Held(DateTimeOffset.FromUnixTimeMilliseconds((long)reply[1])) with
        {
            Rate = new RateDecision(true, (int)reply[2], (int)reply[3], TimeSpan.Zero),
        },
        "RATE" => new HoldResult(HoldStatus.RateLimited)
        {
            Rate = new RateDecision(false, 0, (int)reply[2], TimeSpan.FromMilliseconds((long)reply[1])),
        },
        "TAKEN" => Taken(reply.Skip(1).Select(r => (int)r).ToList()),
        "LIMIT" => OverLimit((int)reply[1]),
        "SOLD_OUT" => SoldOut((int)reply[1]),
        "UNKNOWN_CATEGORY" => new HoldResult(HoldStatus.UnknownCategory),
        "NOT_ADMITTED" => new HoldResult(HoldStatus.NotAdmitted),
        "WAITLIST" => new HoldResult(HoldStatus.WaitingList),
        "NOT_LOADED" => new HoldResult(HoldStatus.NotLoaded),
        var status => throw new InvalidOperationException($"Unexpected reply from the hold script: {status}"),
    };
}
