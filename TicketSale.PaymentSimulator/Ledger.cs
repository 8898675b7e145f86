using System.Collections.Concurrent;

namespace TicketSale.PaymentSimulator;

/// <summary>The gateway's charges, by payment key, and how it is told to misbehave.</summary>
public sealed class Ledger
{
    private readonly ConcurrentDictionary<Guid, ChargeRecord> _charges = new();

    public SimulatorSettings Settings { get; set; } = new(LatencyMs: 0, FailureRate: 0, Outage: false);

    public ConcurrentDictionary<Guid, ChargeRecord> Charges => _charges;

    /// <summary>Total charge attempts that created a new charge; more than one per key would be a double charge.</summary>
    public int ChargesCreated => _charges.Values.Sum(c => c.TimesCharged);
}

public sealed class ChargeRecord(Guid paymentKey, long amountCents, DateTimeOffset chargedAt)
{
    public string ChargeId { get; } = "ch_" + Guid.NewGuid().ToString("N")[..20];

    public Guid PaymentKey { get; } = paymentKey;

    public long AmountCents { get; } = amountCents;

    public DateTimeOffset ChargedAt { get; } = chargedAt;

    public int TimesCharged { get; set; } = 1;

    public DateTimeOffset? RefundedAt { get; set; }

    public string Status => RefundedAt is null ? "captured" : "refunded";
}

public sealed record SimulatorSettings(int LatencyMs, double FailureRate, bool Outage);
