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
    DateTimeOffset Deadline)
{
    /// <summary>The tickets this purchase buys: its seats, or its general-admission quantity.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int TicketCount => Seats.Count + (GeneralAdmissionCategoryId is null ? 0 : Quantity);

    /// <summary>What makes this message impossible to process, or null when it is well-formed.</summary>
    public string? Problem() =>
        PurchaseId == Guid.Empty || UserId == Guid.Empty || CampaignId == Guid.Empty || HoldId == Guid.Empty ? "an id is missing"
        : AmountCents <= 0 ? "the amount is not positive"
        : Seats is null ? "the seat list is missing"
        : (Seats.Count > 0) == (GeneralAdmissionCategoryId is not null) ? "it must be seats or general admission"
        : GeneralAdmissionCategoryId is not null && Quantity is < 1 or > 100 ? "the quantity is out of range"
        : Seats.Any(s => s < 0) || Seats.Distinct().Count() != Seats.Count ? "the seat list is invalid"
        : null;
}

/// <summary>The outcome of a purchase, pushed to the buyer (Redis pub/sub → server-sent events).</summary>
public sealed record PurchaseOutcome(Guid PurchaseId, string Status, Guid? OrderId, string? FailureReason);
