using System.Diagnostics.Metrics;

namespace TicketSale.Worker;

/// <summary>The Worker's own metrics (exported by ServiceDefaults as "TicketSale.*").</summary>
public sealed class WorkerMetrics
{
    public const string MeterName = "TicketSale.Worker";

    private readonly Counter<long> _confirmed;
    private readonly Counter<long> _tickets;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _deferred;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _holdsExpired;
    private readonly Histogram<int> _orderBatch;
    private long _drift;
    private long _overdue;
    private int _paymentCircuitOpen;

    public WorkerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _confirmed = meter.CreateCounter<long>("ticketsale.purchases.confirmed");
        _tickets = meter.CreateCounter<long>("ticketsale.tickets.sold");
        _failed = meter.CreateCounter<long>("ticketsale.purchases.failed");
        _deferred = meter.CreateCounter<long>("ticketsale.payments.deferred", description: "Purchases put back for later because the gateway was unavailable");
        _deadLettered = meter.CreateCounter<long>("ticketsale.purchases.dead_lettered");
        _holdsExpired = meter.CreateCounter<long>("ticketsale.holds.expired");
        _orderBatch = meter.CreateHistogram<int>("ticketsale.orders.batch_size", unit: "{purchase}",
            description: "Purchases written in one transaction by group commit",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64] });
        meter.CreateObservableGauge("ticketsale.inventory.drift", () => Interlocked.Read(ref _drift),
            description: "Seats whose availability in Redis disagrees with PostgreSQL at the last check");
        meter.CreateObservableGauge("ticketsale.purchases.overdue", () => Interlocked.Read(ref _overdue),
            description: "Purchases still pending past their deadline and its grace after the last sweep");
        meter.CreateObservableGauge("ticketsale.payments.circuit_open", () => Volatile.Read(ref _paymentCircuitOpen),
            description: "1 while the payment gateway's circuit breaker is open or half-open, 0 once it closed");
        // Present from the start at 0, so that the first dead letter is an increase an alert rule can see.
        _deadLettered.Add(0);
    }

    public void Overdue(long purchases) => Interlocked.Exchange(ref _overdue, purchases);

    public void PaymentCircuit(bool open) => Volatile.Write(ref _paymentCircuitOpen, open ? 1 : 0);

    public void PurchaseConfirmed(int tickets)
    {
        _confirmed.Add(1);
        _tickets.Add(tickets);
    }

    public void OrderBatch(int purchases) => _orderBatch.Record(purchases);

    public void PurchaseFailed() => _failed.Add(1);

    public void PaymentDeferred() => _deferred.Add(1);

    public void DeadLettered() => _deadLettered.Add(1);

    public void HoldsExpired(int count) => _holdsExpired.Add(count);

    public void Drift(long seats) => Interlocked.Exchange(ref _drift, seats);
}
