namespace TicketSale.Bench.Reporting;

// The figures a scenario records for the report (report.json's "figures", and the targets read from them). The report
// writes them with camel-case names.

/// <summary>How a JIT warm-up went: rounds run, and the share of a core compilation took in the last one.</summary>
public sealed record WarmUpFigures(int Rounds, double JitShareOfCoreInTheLastRound);

/// <summary>The confirmation run: a backlog of accepted purchases decided by the Worker into PostgreSQL.</summary>
public sealed record ConfirmationFigures(int Purchases, int TicketsPerPurchase, long Tickets, long TicketsConfirmed, bool WorkerPausedWhileAccepting,
    WarmUpFigures WarmUp, double SustainedTicketsPerSecond, double SustainedPurchasesPerSecond, double SecondsToConfirmAll);

/// <summary>The flash sale through the gateway: the waiting room, the herd's holds and purchases, and what sold.</summary>
public sealed record FlashSaleFigures
{
    public required int Buyers { get; init; }

    public required double BurstSeconds { get; init; }

    public required WarmUpFigures WarmUp { get; init; }

    public required string SaleOpens { get; init; }

    /// <summary>Second 0 of the timeline, to line it up with the services' own metrics and logs.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    public required int ReservedSeats { get; init; }

    public required int GeneralAdmission { get; init; }

    public required double AdmissionsPerSecond { get; init; }

    public required int SeatsSold { get; init; }

    public required int GeneralAdmissionSold { get; init; }

    public required bool SoldOut { get; init; }

    public required double? SecondsToSellOut { get; init; }

    public required double SecondsUntilEveryBuyerDone { get; init; }

    public required double HoldP50Ms { get; init; }

    public required double HoldP99Ms { get; init; }

    public required double HoldMaxMs { get; init; }

    public required long HoldAttempts { get; init; }

    public required double HoldServerSideCount { get; init; }

    public required double? HoldServerSideP50AtMostMs { get; init; }

    public required double? HoldServerSideP99AtMostMs { get; init; }

    public required double? GatewayPostsP50AtMostMs { get; init; }

    public required double? GatewayPostsP99AtMostMs { get; init; }

    public required double ClientSchedulingLagP99Ms { get; init; }

    public required double ClientSchedulingLagMaxMs { get; init; }

    public required double ClientGcPauseMs { get; init; }

    public required double ClientGcPauseWorstSecondMs { get; init; }

    /// <summary>What the pauses are made of: collections of the older generations are the long ones.</summary>
    public required int ClientGen1Collections { get; init; }

    public required int ClientGen2Collections { get; init; }

    /// <summary>Not the target's figure (which counts every hold): how much of its tail the instrument adds.</summary>
    public required long HoldsDuringClientGcPause { get; init; }

    public required double HoldP99WithoutClientGcPauseMs { get; init; }

    public required double PurchaseAcceptP99Ms { get; init; }

    public required double OutcomeSeenP50Ms { get; init; }

    public required double OutcomeSeenP99Ms { get; init; }

    public required double WaitingRoomWaitP50Ms { get; init; }

    public required double WaitingRoomWaitP99Ms { get; init; }

    public required IReadOnlyDictionary<string, int> Outcomes { get; init; }

    public required IReadOnlyDictionary<string, int> Requests { get; init; }

    public required IReadOnlyDictionary<string, int> PeakRequestsInFlight { get; init; }
}

/// <summary>The same sale sold by the SELECT … FOR UPDATE baseline.</summary>
public sealed record ForUpdateSaleFigures(int Buyers, long TicketsSold, bool SoldOut, double? SecondsToSellOut, double SecondsUntilEveryBuyerDone,
    double PurchaseP50Ms, double PurchaseP99Ms, IReadOnlyDictionary<string, int> Outcomes);

/// <summary>One step of the stress ramp.</summary>
public sealed record StressStepFigures(int Connections, double PerSecond, double P99Ms, double ErrorRate, double SecondsToDecideAllAfterTheStep);

/// <summary>The stress ramp: connections doubling until the system breaks, and its knee (the best healthy step).</summary>
public sealed record StressFigures(string Operation, IReadOnlyList<StressStepFigures> Steps, string BrokeBecause, int? KneeConnections, double? KneePerSecond,
    double? KneeP99Ms);

/// <summary>A process's resident memory over the soak.</summary>
public sealed record SoakMemoryFigures(double FirstMinuteMb, double LastMinuteMb, double PeakMb);

/// <summary>The soak: a steady load for a long time, its latency and memory at the start and at the end.</summary>
public sealed record SoakFigures(double Minutes, double TargetPerSecond, double AchievedPerSecond, double ErrorRate, double WindowSeconds, double P99FirstWindowMs,
    double P99LastWindowMs, IReadOnlyDictionary<string, SoakMemoryFigures> Memory);

/// <summary>Whether the load client's socket engine runs continuations inline (null: this runtime does not say).</summary>
public sealed record LoadClientFigures(bool? SocketContinuationsInline);

/// <summary>The purchases a hot-path round accepted, and how long the Worker took to decide them once the load stopped.</summary>
public sealed record PurchaseBacklogFigures(int AcceptedPurchases, double SecondsToDecideAllAfterTheLoad);

/// <summary>Redis alone running the hold script (redis-benchmark, EVALSHA with the Api's arguments).</summary>
public sealed record RedisBenchmarkFigures(int Connections, int Requests, double PerSecond, double P50Ms, double P99Ms);

/// <summary>PostgreSQL alone taking single-row inserts (pgbench), for the confirmations' ceiling.</summary>
public sealed record PgbenchFigures(int Connections, double InsertsPerSecond, double LatencyAverageMs);

/// <summary>A rewrite of Redis's append-only log after a scenario: how much was logged, rewritten, and what it cost.</summary>
public sealed record RedisLogRewriteFigures(long LogMegabytes, long RewrittenMegabytes, double Seconds, double RedisCpuSeconds);
