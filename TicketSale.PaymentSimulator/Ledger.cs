using System.Text.Json;
using Microsoft.Extensions.Options;

namespace TicketSale.PaymentSimulator;

public sealed class LedgerOptions
{
    /// <summary>Where the ledger's file is kept; none keeps it in memory only (a restart forgets every charge).</summary>
    public string? Directory { get; set; }
}

/// <summary>
/// The gateway's charges by payment key, and how it is told to misbehave. Every change is appended to a file before
/// it is answered, and the file is read back at start: like a real gateway's, the ledger survives a crash of the
/// process, so it can still prove that nobody was charged twice or charged without a ticket. (The append goes to the
/// operating system, not to the disk: a crash of the process is what the simulator stands for; an fsync per charge
/// would cap the gateway at the disk's flush rate.)
/// </summary>
public sealed class Ledger : IDisposable
{
    private readonly Dictionary<Guid, ChargeRecord> _charges = [];
    private readonly Lock _gate = new();
    private readonly FileStream? _log;

    public Ledger(IOptions<LedgerOptions> options)
    {
        if (options.Value.Directory is not { Length: > 0 } directory)
        {
            return;
        }

        System.IO.Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "ledger.jsonl");
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path).Where(l => l.Length > 0))
            {
                // A line cut short by a crash mid-write was never answered: nobody was told it happened.
                if (TryRead(line) is { } entry)
                {
                    Apply(entry);
                }
            }
        }

        _log = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    public SimulatorSettings Settings { get; set; } = new(LatencyMs: 0, FailureRate: 0, Outage: false);

    public IReadOnlyList<ChargeRecord> Snapshot()
    {
        lock (_gate)
        {
            return [.. _charges.Values.Select(c => c with { })];
        }
    }

    public ChargeRecord? Find(Guid paymentKey)
    {
        lock (_gate)
        {
            return _charges.TryGetValue(paymentKey, out var charge) ? charge with { } : null;
        }
    }

    /// <summary>Charges the key once; a second call replays the first charge. Null when the key was voided.</summary>
    public (ChargeRecord? Charge, bool Created) Charge(Guid paymentKey, long amountCents, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_charges.TryGetValue(paymentKey, out var existing))
            {
                return (existing.Status == ChargeRecord.Voided ? null : existing with { }, false);
            }

            var entry = new LedgerEntry("charge", paymentKey, amountCents, now, "ch_" + Guid.NewGuid().ToString("N")[..20]);
            Append(entry);
            return (Apply(entry) with { }, true);
        }
    }

    /// <summary>
    /// Refunds the key's charge; a key never charged is voided, so that a charge for it arriving later (one that the
    /// caller gave up on, still on its way) is declined instead of taking money for a purchase that has failed.
    /// </summary>
    public ChargeRecord Refund(Guid paymentKey, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_charges.TryGetValue(paymentKey, out var existing) && existing.Status != ChargeRecord.Captured)
            {
                return existing with { };
            }

            var entry = new LedgerEntry(existing is null ? "void" : "refund", paymentKey, 0, now, null);
            Append(entry);
            return Apply(entry) with { };
        }
    }

    private ChargeRecord Apply(LedgerEntry entry)
    {
        switch (entry.Kind)
        {
            case "charge":
                return _charges[entry.PaymentKey] = new ChargeRecord(entry.ChargeId!, entry.PaymentKey, entry.AmountCents, entry.At, ChargeRecord.Captured, null);
            case "refund":
                return _charges[entry.PaymentKey] = _charges[entry.PaymentKey] with { Status = ChargeRecord.Refunded, RefundedAt = entry.At };
            default:
                return _charges[entry.PaymentKey] = new ChargeRecord("", entry.PaymentKey, 0, entry.At, ChargeRecord.Voided, entry.At);
        }
    }

    private void Append(LedgerEntry entry)
    {
        if (_log is null)
        {
            return;
        }

        _log.Write(JsonSerializer.SerializeToUtf8Bytes(entry));
        _log.WriteByte((byte)'\n');
        _log.Flush();
    }

    private static LedgerEntry? TryRead(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<LedgerEntry>(line);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _log?.Dispose();

    private sealed record LedgerEntry(string Kind, Guid PaymentKey, long AmountCents, DateTimeOffset At, string? ChargeId);
}

/// <param name="Status"><see cref="Captured"/>, <see cref="Refunded"/>, or <see cref="Voided"/> (never charged, and never will be).</param>
public sealed record ChargeRecord(string ChargeId, Guid PaymentKey, long AmountCents, DateTimeOffset ChargedAt, string Status, DateTimeOffset? RefundedAt)
{
    public const string Captured = "captured";
    public const string Refunded = "refunded";
    public const string Voided = "voided";
}

/// <summary>How the simulator misbehaves: latency, random failures, an outage, and overcharging (a gateway charging
/// more than asked, which its callers must notice).</summary>
public sealed record SimulatorSettings(int LatencyMs, double FailureRate, bool Outage, long OverchargeCents = 0);
