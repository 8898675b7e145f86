namespace TicketSale.Core.Messaging;

/// <summary>
/// An accepted purchase: published by the Api (with publisher confirms) before it answers 202, consumed by the Worker.
/// Carries everything the Worker needs, so it can confirm even if Redis lost the hold.
/// </summary>
public sealed record PurchaseRequested(
    Guid PurchaseId,
    Guid UserId,
    Guid CampaignId,
    Guid HoldId,
    IReadOnlyList<int> Seats,
    Guid? GeneralAdmissionCategoryId,
    int Quantity,
    long AmountCents,
    DateTimeOffset AcceptedAt,
    DateTimeOffset Deadline);

/// <summary>The outcome of a purchase, pushed to the buyer (Redis pub/sub → server-sent events).</summary>
public sealed record PurchaseOutcome(Guid PurchaseId, string Status, Guid? OrderId, string? FailureReason);
