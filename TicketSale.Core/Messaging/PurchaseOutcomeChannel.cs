using System.Text.Json;
using StackExchange.Redis;

namespace TicketSale.Core.Messaging;

/// <summary>Where a purchase's status lives in Redis, and the channel its outcome is announced on.</summary>
public static class PurchaseOutcomeChannel
{
    /// <summary>How long a purchase's status stays in Redis; PostgreSQL keeps the outcome for good.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(2);

    public static RedisKey StatusKey(Guid purchaseId) => $"ts:purchase:{purchaseId:N}";

    public static RedisChannel For(Guid purchaseId) => RedisChannel.Literal($"ts:purchase:{purchaseId:N}");

    /// <summary>
    /// Records a purchase being accepted as pending, unless a status is already there: then this is a retry, and the
    /// status says what became of the first attempt (a Worker may even have decided it meanwhile: under load, 5% of a
    /// flash sale's purchases showed "Pending" for good when this overwrote the outcome). False when one was there.
    /// </summary>
    public static Task<bool> RecordPendingAsync(IDatabase db, Guid purchaseId, Guid userId, Guid holdId) =>
        db.StringSetAsync(StatusKey(purchaseId), JsonSerializer.Serialize(new PurchaseStatusRecord(userId, "Pending", null, null, holdId)), Retention, When.NotExists);

    /// <summary>The status Redis keeps for a purchase, or null when it has none (never accepted, or forgotten).</summary>
    public static async Task<PurchaseStatusRecord?> ReadAsync(IDatabase db, Guid purchaseId)
    {
        var json = await db.StringGetAsync(StatusKey(purchaseId));
        return json.HasValue ? JsonSerializer.Deserialize<PurchaseStatusRecord>((string)json!) : null;
    }

    /// <summary>Forgets a pending status the Api recorded for a purchase it then could not hand to the broker.</summary>
    public static Task ForgetPendingAsync(IDatabase db, Guid purchaseId) => db.KeyDeleteAsync(StatusKey(purchaseId));

    /// <summary>
    /// Records the outcome (it replaces Pending) and announces it to whoever watches the purchase. Both commands go out
    /// together, in one write and one reply read: Redis runs them in order, so a watcher told of the outcome finds it
    /// recorded.
    /// </summary>
    public static Task RecordOutcomeAsync(IDatabase db, Guid purchaseId, PurchaseStatusRecord outcome)
    {
        var json = JsonSerializer.Serialize(outcome);
        return Task.WhenAll(db.StringSetAsync(StatusKey(purchaseId), json, Retention), db.PublishAsync(For(purchaseId), json));
    }
}

/// <summary>The JSON stored under <see cref="PurchaseOutcomeChannel.StatusKey"/>.</summary>
/// <param name="HoldId">The hold bought: a retry with the same Idempotency-Key for another hold is refused.</param>
public sealed record PurchaseStatusRecord(Guid UserId, string Status, Guid? OrderId, string? FailureReason, Guid? HoldId = null);
