using StackExchange.Redis;
using TicketSale.Core.Inventory;

namespace TicketSale.Core.RateLimiting;

/// <summary>A token bucket: <see cref="Capacity"/> requests at once, refilled at <see cref="PerSecond"/>.</summary>
public sealed record TokenBucket(string Key, int Capacity, double PerSecond);

public sealed record RateDecision(bool Allowed, int Remaining, int Limit, TimeSpan RetryAfter);

/// <summary>
/// Token buckets in Redis, shared by every Api replica. All of a request's buckets (per user, per IP) are checked
/// and taken in one script, all or nothing.
/// </summary>
public sealed class TokenBuckets(IConnectionMultiplexer redis)
{
    private static readonly RedisScript s_script = new(SeatInventory.Script("ratelimit"));

    public const string KeyPrefix = "ts:rl:";

    public async Task<RateDecision> TakeAsync(IReadOnlyList<TokenBucket> buckets)
    {
        if (buckets.Count == 0)
        {
            return new RateDecision(true, -1, 0, TimeSpan.Zero);
        }

        return Decision((RedisResult[])(await s_script.EvaluateAsync(redis.GetDatabase(), [KeyPrefix], [.. Arguments(buckets)]))!);
    }

    /// <summary>
    /// The decision at the head of a script's reply (common.lua's rate_limit): allowed, tokens left, capacity,
    /// retry-after milliseconds.
    /// </summary>
    public static RateDecision Decision(RedisResult[] reply) =>
        new((int)reply[0] == 1, (int)reply[1], (int)reply[2], TimeSpan.FromMilliseconds((long)reply[3]));

    /// <summary>The script arguments for buckets: the count, then key suffix, capacity and rate of each.</summary>
    public static IEnumerable<RedisValue> Arguments(IReadOnlyList<TokenBucket> buckets)
    {
        yield return buckets.Count;
        foreach (var bucket in buckets)
        {
            yield return bucket.Key;
            yield return bucket.Capacity;
            yield return bucket.PerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
