namespace TicketSale.Core.Data;

public static class Roles
{
    public const string Admin = "admin";
    public const string Customer = "customer";

    /// <summary>Door staff: check tickets in, nothing else.</summary>
    public const string Staff = "staff";
}

public sealed class User
{
    public Guid Id { get; set; }

    public required string Email { get; set; }

    public required string PasswordHash { get; set; }

    public required string Role { get; set; }

    /// <summary>Set by an admin: until then the account can neither sign in nor refresh a session.</summary>
    public DateTimeOffset? LockedUntil { get; set; }

    /// <summary>
    /// Set when the owner did not choose the password (the seeded admin's comes from configuration): nothing but
    /// changing it is allowed until it is changed.
    /// </summary>
    public bool PasswordChangeRequired { get; set; }

    /// <summary>The shared secret of the owner's authenticator app (TOTP, base32): admins sign in with its codes too.</summary>
    public string? TotpSecret { get; set; }

    /// <summary>When the owner proved the e-mail address is theirs (the link sent at registration); until then no buying.</summary>
    public DateTimeOffset? EmailVerifiedAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class Venue
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public int SeatCount { get; set; }

    public List<VenueSection> Sections { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A block of <see cref="Rows"/> × <see cref="SeatsPerRow"/> seats; its seats are numbered from <see cref="FirstSeatIndex"/>.</summary>
public sealed class VenueSection
{
    public Guid Id { get; set; }

    public Guid VenueId { get; set; }

    public required string Name { get; set; }

    public required string PriceCategory { get; set; }

    public int Rows { get; set; }

    public int SeatsPerRow { get; set; }

    public int FirstSeatIndex { get; set; }
}

/// <summary>
/// One seat. Seats are identified by their index within the venue (0 … SeatCount-1): compact in Redis bitmaps,
/// in messages and in the seat map.
/// </summary>
public sealed class Seat
{
    public Guid VenueId { get; set; }

    public int Index { get; set; }

    public required string Section { get; set; }

    public int Row { get; set; }

    public int Number { get; set; }

    public required string PriceCategory { get; set; }
}

/// <summary>A campaign's place in its lifecycle; by name in JSON (the API, the caches), by number in PostgreSQL.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<CampaignStatus>))]
public enum CampaignStatus
{
    Draft,
    Published,
    OnSale,
    Closed,
}

public sealed class Campaign
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public Guid? VenueId { get; set; }

    public Venue? Venue { get; set; }

    public DateTimeOffset EventAt { get; set; }

    public DateTimeOffset SaleOpensAt { get; set; }

    public DateTimeOffset SaleClosesAt { get; set; }

    public int PerUserLimit { get; set; }

    /// <summary>How long a hold keeps its seats; a big stadium sale may want less than the default ten minutes.</summary>
    public int HoldSeconds { get; set; }

    public bool CancellationAllowed { get; set; }

    /// <summary>With the waiting room on, a hold needs an admission token from it.</summary>
    public bool WaitingRoomEnabled { get; set; }

    /// <summary>Visitors let out of the waiting room per second; the admin may change it during the sale.</summary>
    public double AdmissionsPerSecond { get; set; }

    /// <summary>Admit no more visitors at a time than there are tickets left (times a small factor).</summary>
    public bool PaceAdmissionsByStock { get; set; }

    public CampaignStatus Status { get; set; }

    public List<CampaignPrice> Prices { get; set; } = [];

    public List<GeneralAdmissionCategory> GeneralAdmission { get; set; } = [];

    /// <summary>Optimistic concurrency: concurrent admin edits must not overwrite each other.</summary>
    public int Version { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class CampaignPrice
{
    public Guid CampaignId { get; set; }

    public required string Category { get; set; }

    public long PriceCents { get; set; }
}

public sealed class GeneralAdmissionCategory
{
    public Guid Id { get; set; }

    public Guid CampaignId { get; set; }

    public required string Name { get; set; }

    public int Capacity { get; set; }

    public int Sold { get; set; }

    public long PriceCents { get; set; }

    /// <summary>Checked on every sale: two confirmations can never both take the last tickets.</summary>
    public int Version { get; set; }
}

public enum OrderStatus
{
    Confirmed,
    Cancelled,
}

/// <summary>A confirmed purchase. Its id is the purchase id, so one purchase can never make two orders.</summary>
public sealed class Order
{
    public Guid Id { get; set; }

    public Guid CampaignId { get; set; }

    public Guid UserId { get; set; }

    public OrderStatus Status { get; set; }

    public long TotalCents { get; set; }

    public List<Ticket> Tickets { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? CancelledAt { get; set; }

    public int Version { get; set; }
}

public sealed class Ticket
{
    public Guid Id { get; set; }

    public Guid OrderId { get; set; }

    public Guid CampaignId { get; set; }

    /// <summary>The reserved seat, or null for general admission.</summary>
    public int? SeatIndex { get; set; }

    public Guid? GeneralAdmissionCategoryId { get; set; }

    public long PriceCents { get; set; }

    /// <summary>False once the order is cancelled: the seat is for sale again and may be sold to someone else.</summary>
    public bool Active { get; set; } = true;

    /// <summary>When door staff admitted the ticket (set once: a second scan is refused with this time).</summary>
    public DateTimeOffset? CheckedInAt { get; set; }

    /// <summary>The gate that admitted it, as the scanner named itself.</summary>
    public string? CheckedInGate { get; set; }
}

public enum PurchaseStatus
{
    Pending,
    Confirmed,
    Failed,
}

/// <summary>The final outcome of an accepted purchase request, written by the Worker.</summary>
public sealed class Purchase
{
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public Guid CampaignId { get; set; }

    public Guid HoldId { get; set; }

    public PurchaseStatus Status { get; set; }

    public string? FailureReason { get; set; }

    public long AmountCents { get; set; }

    public DateTimeOffset AcceptedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>When a pending purchase is failed if nothing decided it (null on rows written before deadlines were kept).</summary>
    public DateTimeOffset? Deadline { get; set; }

    /// <summary>
    /// The accepted request (the queue's message, as JSON), kept while the purchase is pending so that a sweeper can
    /// decide it without the queue.
    /// </summary>
    public string? Request { get; set; }
}

public enum PaymentStatus
{
    Charged,

    /// <summary>The purchase failed; whatever the gateway charged for it must be given back.</summary>
    RefundPending,
    Refunded,

    /// <summary>A pending refund found nothing charged at the gateway.</summary>
    NeverCharged,
}

/// <summary>A charge at the payment gateway, one at most per purchase (the gateway is idempotent on the purchase id).</summary>
public sealed class Payment
{
    public Guid PurchaseId { get; set; }

    public required string GatewayChargeId { get; set; }

    public long AmountCents { get; set; }

    public PaymentStatus Status { get; set; }

    public DateTimeOffset ChargedAt { get; set; }

    public DateTimeOffset? RefundedAt { get; set; }
}

/// <summary>
/// One line of the audit log: sign-ins and refused ones, admins' actions, refunds, check-ins. Append-only: the
/// services' database roles may insert and read these rows, never change or delete them.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>What happened, one of <see cref="Security.AuditActions"/>.</summary>
    public required string Action { get; set; }

    /// <summary>Who did it, when known: the signed-in user, the admin, the door staff.</summary>
    public Guid? ActorId { get; set; }

    /// <summary>The account concerned, by e-mail address, when known (a failed sign-in names only the address typed).</summary>
    public string? Account { get; set; }

    /// <summary>What it was done to: an account, a purchase, a ticket.</summary>
    public Guid? SubjectId { get; set; }

    /// <summary>The client's address, for what came over HTTP.</summary>
    public string? Address { get; set; }

    public required string Detail { get; set; }
}

public enum PromoKind
{
    /// <summary>A percentage off each ticket the code applies to.</summary>
    Percent,

    /// <summary>A fixed amount off each ticket the code applies to (never below zero).</summary>
    AmountOff,
}

/// <summary>
/// A promo code of a campaign: a discount on the tickets of one price category (or all), for at most
/// <see cref="Budget"/> purchases. <see cref="Used"/> counts the purchases holding a use; a CHECK constraint keeps it
/// within the budget, so no interleaving of concurrent purchases can overspend it.
/// </summary>
public sealed class PromoCode
{
    public Guid Id { get; set; }

    public Guid CampaignId { get; set; }

    /// <summary>What buyers type, stored in capitals (codes are compared without case).</summary>
    public required string Code { get; set; }

    public PromoKind Kind { get; set; }

    /// <summary>The percentage (1–100) or the cents off per ticket.</summary>
    public long Value { get; set; }

    /// <summary>The seats' price category or the general-admission category it applies to; null for every ticket.</summary>
    public string? Category { get; set; }

    public int Budget { get; set; }

    public int Used { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A use of a promo code by one purchase, taken when the purchase is accepted and given back if it fails or is cancelled.</summary>
public sealed class PromoRedemption
{
    public Guid PurchaseId { get; set; }

    public Guid PromoCodeId { get; set; }

    public Guid CampaignId { get; set; }

    public long DiscountCents { get; set; }

    public DateTimeOffset ReservedAt { get; set; }
}

/// <summary>The kinds of <see cref="OutboxMessage"/>: what happened to an order, as organizers' webhooks name it.</summary>
public static class OrderEvents
{
    public const string Placed = "order.placed";
    public const string Confirmed = "order.confirmed";
    public const string Cancelled = "order.cancelled";
    public const string CheckedIn = "ticket.checked-in";

    /// <summary>A purchase that failed after its charge went through, and was refunded: the buyer is told (no webhook).</summary>
    public const string Refunded = "purchase.refunded";

    /// <summary>Tickets that came back offered to a waiting-list entry (the row's order id is the entry's): the buyer is told (no webhook).</summary>
    public const string WaitingListOffered = "waitinglist.offered";

    /// <summary>What organizers can subscribe to.</summary>
    public static readonly IReadOnlyList<string> Webhooks = [Placed, Confirmed, Cancelled, CheckedIn];

    /// <summary>What the buyer gets an e-mail about.</summary>
    public static bool Mailed(string type) => type is Confirmed or Cancelled or Refunded or WaitingListOffered;
}

/// <summary>
/// The transactional outbox: a row written in the same transaction as the change it tells of (an order confirmed,
/// cancelled, a ticket checked in), so that its e-mail and webhooks go out if and only if the change happened, however
/// the process that made it ends. The Worker sends the e-mail and fans the webhooks out, and marks the row.
/// </summary>
public sealed class OutboxMessage
{
    public long Id { get; set; }

    /// <summary>One of <see cref="OrderEvents"/>.</summary>
    public required string Type { get; set; }

    public Guid CampaignId { get; set; }

    /// <summary>The order (its id is its purchase's); for a waiting-list offer, the entry.</summary>
    public Guid OrderId { get; set; }

    public Guid? TicketId { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>True until the buyer's e-mail is sent (false from the start for what is not mailed).</summary>
    public bool MailPending { get; set; }

    /// <summary>When the e-mail may be tried again after a failure.</summary>
    public DateTimeOffset? MailRetryAt { get; set; }

    public int MailAttempts { get; set; }

    public DateTimeOffset? MailedAt { get; set; }

    /// <summary>True until the webhook deliveries are made for the subscriptions that want it.</summary>
    public bool WebhooksPending { get; set; }

    public static OutboxMessage For(string type, Guid campaignId, Guid orderId, DateTimeOffset at, Guid? ticketId = null) => new()
    {
        Type = type,
        CampaignId = campaignId,
        OrderId = orderId,
        TicketId = ticketId,
        OccurredAt = at,
        MailPending = OrderEvents.Mailed(type),
        WebhooksPending = OrderEvents.Webhooks.Contains(type),
    };
}

/// <summary>An organizer's webhook: the events it wants, for one campaign or all, signed with its secret.</summary>
public sealed class WebhookSubscription
{
    public Guid Id { get; set; }

    public required string Url { get; set; }

    /// <summary>The HMAC key ("whsec_" and base64), shown to the organizer to check signatures with.</summary>
    public required string Secret { get; set; }

    /// <summary>The event types wanted, comma-separated.</summary>
    public required string Events { get; set; }

    /// <summary>The campaign whose events it wants; null for every campaign.</summary>
    public Guid? CampaignId { get; set; }

    public bool Active { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }
}

public enum WebhookDeliveryStatus
{
    Pending,
    Delivered,

    /// <summary>Every attempt failed: kept, with its attempts, until an organizer sends it again.</summary>
    DeadLettered,
}

/// <summary>One event for one subscription, with its attempts; the delivery log organizers read.</summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }

    public Guid SubscriptionId { get; set; }

    public long OutboxMessageId { get; set; }

    public required string EventType { get; set; }

    /// <summary>The JSON body, fixed when the delivery is made: every attempt sends the same bytes.</summary>
    public required string Payload { get; set; }

    public WebhookDeliveryStatus Status { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public int? LastStatusCode { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    public List<WebhookAttempt> AttemptLog { get; set; } = [];
}

public sealed class WebhookAttempt
{
    public long Id { get; set; }

    public long DeliveryId { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>The receiver's answer, or null when there was none (refused, timed out).</summary>
    public int? StatusCode { get; set; }

    public string? Error { get; set; }

    public int DurationMs { get; set; }
}

public enum WaitingListStatus
{
    Waiting,

    /// <summary>Tickets that came back are held for the entry (the hold's id is the entry's) until the offer expires.</summary>
    Offered,

    /// <summary>The buyer left the list before an offer.</summary>
    Left,

    /// <summary>Passed over: by its turn, the buyer could not take that many more tickets (the per-person limit).</summary>
    Passed,
}

/// <summary>
/// A buyer's place on a sold-out campaign's waiting list. Tickets that come back are offered in the order of
/// <see cref="Position"/>, each entry once, as a hold of its own; Redis mirrors the entries still waiting.
/// </summary>
public sealed class WaitingListEntry
{
    public Guid Id { get; set; }

    public Guid CampaignId { get; set; }

    public Guid UserId { get; set; }

    /// <summary>From a sequence: the order of joining, across every Api replica.</summary>
    public long Position { get; set; }

    public int Quantity { get; set; }

    /// <summary>The general-admission category wanted; null for seats.</summary>
    public Guid? GeneralAdmissionCategoryId { get; set; }

    public WaitingListStatus Status { get; set; }

    public DateTimeOffset JoinedAt { get; set; }

    public DateTimeOffset? OfferedAt { get; set; }

    public DateTimeOffset? OfferExpiresAt { get; set; }

    public DateTimeOffset? LeftAt { get; set; }
}
