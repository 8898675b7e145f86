using Microsoft.Extensions.Options;
using TicketSale.PaymentSimulator;

namespace TicketSale.UnitTests;

public sealed class LedgerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ledger-").FullName;
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

    private Ledger Open() => new(Options.Create(new LedgerOptions { Directory = _directory }));

    [Fact]
    public void A_key_is_charged_once_and_a_second_charge_replays_the_first()
    {
        using var ledger = Open();
        var key = Guid.NewGuid();
        var (first, created) = ledger.Charge(key, 4200, _now);
        var (second, again) = ledger.Charge(key, 4200, _now);
        Assert.True(created);
        Assert.False(again);
        Assert.Equal(first!.ChargeId, second!.ChargeId);
        Assert.Single(ledger.Snapshot());
    }

    [Fact]
    public void A_key_refunded_before_it_was_charged_is_voided_and_a_late_charge_is_declined()
    {
        using var ledger = Open();
        var key = Guid.NewGuid();
        Assert.Equal(ChargeRecord.Voided, ledger.Refund(key, _now).Status);
        Assert.Null(ledger.Charge(key, 4200, _now).Charge);
        Assert.Equal(ChargeRecord.Voided, ledger.Find(key)!.Status);
    }

    [Fact]
    public void Charges_refunds_and_voids_survive_a_restart_and_a_line_cut_short_by_a_crash_is_ignored()
    {
        Guid charged = Guid.NewGuid(), refunded = Guid.NewGuid(), voided = Guid.NewGuid();
        using (var ledger = Open())
        {
            ledger.Charge(charged, 1000, _now);
            ledger.Charge(refunded, 2000, _now);
            ledger.Refund(refunded, _now);
            ledger.Refund(voided, _now);
        }

        File.AppendAllText(Path.Combine(_directory, "ledger.jsonl"), "{\"Kind\":\"charge\",\"Paym");
        using var reopened = Open();
        Assert.Equal(ChargeRecord.Captured, reopened.Find(charged)!.Status);
        Assert.Equal(ChargeRecord.Refunded, reopened.Find(refunded)!.Status);
        Assert.Equal(ChargeRecord.Voided, reopened.Find(voided)!.Status);
        Assert.Equal(3, reopened.Snapshot().Count);
        Assert.False(reopened.Charge(charged, 1000, _now).Created);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
