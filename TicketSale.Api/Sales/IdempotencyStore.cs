using System.Text.Json;
using StackExchange.Redis;

namespace TicketSale.Api.Sales;

/// <summary>
/// Remembers the answer given for each (user, Idempotency-Key) for 24 hours. A key is claimed before the work starts,
/// so two copies of one request racing on different replicas cannot both do it: the second sees it in flight.
/// </summary>
public sealed class IdempotencyStore(IConnectionMultiplexer redis)
{
    private static readonly TimeSpan s_inFlightLease = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_retention = TimeSpan.FromHours(24);

    public async Task<IdempotencyClaim> ClaimAsync(Guid userId, string key, string fingerprint)
    {
        var redisKey = Key(userId, key);
        var claim = new StoredAnswer(fingerprint, InFlight: true, Status: 0, PurchaseId: null, Problem: null);
        var db = redis.GetDatabase();
        if (await db.StringSetAsync(redisKey, JsonSerializer.Serialize(claim), s_inFlightLease, When.NotExists))
        {
            return new IdempotencyClaim(IdempotencyOutcome.Claimed, null);
        }

        var existing = await db.StringGetAsync(redisKey);
        if (existing.IsNull)
        {
            // The lease lapsed between the two calls; claim again.
            return await ClaimAsync(userId, key, fingerprint);
        }

        var stored = JsonSerializer.Deserialize<StoredAnswer>((string)existing!)!;
        return stored.Fingerprint != fingerprint ? new IdempotencyClaim(IdempotencyOutcome.Mismatch, stored)
            : stored.InFlight ? new IdempotencyClaim(IdempotencyOutcome.InFlight, stored)
            : new IdempotencyClaim(IdempotencyOutcome.Replay, stored);
    }

    public Task CompleteAsync(Guid userId, string key, StoredAnswer answer) =>
        redis.GetDatabase().StringSetAsync(Key(userId, key), JsonSerializer.Serialize(answer with { InFlight = false }), s_retention);

    /// <summary>Gives the key up after a transient failure, so the client's retry with it can succeed.</summary>
    public Task AbandonAsync(Guid userId, string key) => redis.GetDatabase().KeyDeleteAsync(Key(userId, key));

    private static RedisKey Key(Guid userId, string key) => $"ts:idem:{userId:N}:{key}";
}

public enum IdempotencyOutcome
{
    Claimed,
    InFlight,
    Replay,
    Mismatch,
}

public sealed record IdempotencyClaim(IdempotencyOutcome Outcome, StoredAnswer? Stored);

public sealed record StoredAnswer(string Fingerprint, bool InFlight, int Status, Guid? PurchaseId, string? Problem);
