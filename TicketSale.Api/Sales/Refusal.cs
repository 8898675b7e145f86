namespace TicketSale.Api.Sales;

/// <summary>Why the sale's logic refused a request; the Api maps each reason to its HTTP answer.</summary>
public enum RefusalReason
{
    NotFound,

    /// <summary>The request is not valid: <see cref="Refusal.Field"/> names the field.</summary>
    Invalid,

    /// <summary>Someone else changed the campaign since the version the request was based on.</summary>
    StaleVersion,

    /// <summary>A campaign whose sale has opened keeps what it sells.</summary>
    NotEditable,

    /// <summary>The campaign is not in the state the transition starts from.</summary>
    InvalidTransition,

    /// <summary>The campaign is not selling now.</summary>
    NotOnSale,

    /// <summary>Behind a waiting room: no valid admission token, or an admission that has ended.</summary>
    AdmissionRequired,

    /// <summary>The campaign does not allow cancelling, or its event has begun.</summary>
    NotCancellable,

    /// <summary>A promo code whose budget of uses is spent.</summary>
    UsedUp,

    /// <summary>A dependency (the payment gateway) is down; nothing was changed, and a retry may succeed.</summary>
    Unavailable,

    /// <summary>The request clashes with the current state: <see cref="Refusal.ProblemType"/> says how.</summary>
    Conflict,
}

/// <summary>A refusal, with the sentence that tells the caller what to do.</summary>
public sealed record Refusal(RefusalReason Reason, string Detail, string? Field = null)
{
    public static Refusal NotFound(string detail) => new(RefusalReason.NotFound, detail);

    public static Refusal Invalid(string field, string detail) => new(RefusalReason.Invalid, detail, field);

    public static Refusal Conflict(string problemType, string detail) => new(RefusalReason.Conflict, detail) { ProblemType = problemType };

    /// <summary>For <see cref="RefusalReason.Conflict"/>: the problem type's last segment, which clients tell conflicts apart by.</summary>
    public string? ProblemType { get; init; }
}

/// <summary>What a change produced, or why it was refused.</summary>
public readonly record struct Outcome<T>(T? Value, Refusal? Refusal)
    where T : class
{
    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(Refusal refusal) => new(null, refusal);
}
