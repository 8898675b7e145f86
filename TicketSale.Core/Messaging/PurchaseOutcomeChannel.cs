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
    /// Records a just-accepted purchase as pending, unless its outcome is already there: the Api writes this after
    /// the broker confirmed the message, and a Worker that got there first may have decided it meanwhile (under
    /// load, 5% of a flash sale's purchases showed "Pending" for good when this overwrote the outcome).
    /// </summary>
    public static Task<bool> RecordPendingAsync(IDatabase db, Guid purchaseId, Guid userId) =>
        db.StringSetAsync(StatusKey(purchaseId), JsonSerializer.Serialize(new PurchaseStatusRecord(userId, "Pending", null, null)), Retention, When.NotExists);

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
public sealed record PurchaseStatusRecord(Guid UserId, string Status, Guid? OrderId, string? FailureReason);
