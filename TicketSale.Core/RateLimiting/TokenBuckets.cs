using StackExchange.Redis;
using TicketSale.Core.Redis;

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
    private static readonly RedisScript s_script = RedisScript.Load("buckets", "ratelimit");

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
    /// The decision at the head of a script's reply (buckets.lua's rate_limit): allowed, tokens left, capacity,
    /// retry-after milliseconds.
    /// </summary>
    public static RateDecision Decision(RedisResult[] reply) =>
        new((int)reply[0] == 1, (int)reply[1], (int)reply[2], TimeSpan.FromMilliseconds((long)reply[3]));

    /// <summary>The script arguments for buckets: the count, then key suffix, capacity and rate of each.</summary>
    public static RedisValue[] Arguments(IReadOnlyList<TokenBucket> buckets)
    {
        var arguments = new RedisValue[ArgumentCount(buckets)];
        WriteArguments(buckets, arguments);
        return arguments;
    }

    public static int ArgumentCount(IReadOnlyList<TokenBucket> buckets) => 1 + (3 * buckets.Count);

    /// <summary>
    /// <see cref="Arguments"/> written into a caller's array: the hold builds its whole argument list in one array,
    /// once per request.
    /// </summary>
    public static void WriteArguments(IReadOnlyList<TokenBucket> buckets, Span<RedisValue> into)
    {
        into[0] = buckets.Count;
        for (var i = 0; i < buckets.Count; i++)
        {
            into[1 + (3 * i)] = buckets[i].Key;
            into[2 + (3 * i)] = buckets[i].Capacity;
            into[3 + (3 * i)] = buckets[i].PerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
