using StackExchange.Redis;

namespace TicketSale.Core.Messaging;

/// <summary>Where a purchase's status lives in Redis, and the channel its outcome is announced on.</summary>
public static class PurchaseOutcomeChannel
{
    /// <summary>How long a purchase's status stays in Redis; PostgreSQL keeps the outcome for good.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(2);

    public static RedisKey StatusKey(Guid purchaseId) => $"ts:purchase:{purchaseId:N}";

    public static RedisChannel For(Guid purchaseId) => RedisChannel.Literal($"ts:purchase:{purchaseId:N}");
}

/// <summary>The JSON stored under <see cref="PurchaseOutcomeChannel.StatusKey"/>.</summary>
public sealed record PurchaseStatusRecord(Guid UserId, string Status, Guid? OrderId, string? FailureReason);
