using System.Data;
using System.Diagnostics;
using Npgsql;
using TicketSale.Core.Data;
using TicketSale.Core.Messaging;

namespace TicketSale.Worker.Purchases;

/// <summary>How writing a charged purchase's order ended.</summary>
public enum OrderWriteResult
{
    /// <summary>The order, its tickets, the payment and the outcome are committed.</summary>
    Written,

    /// <summary>Another delivery of the same purchase decided it first: read its outcome.</summary>
    AlreadyDecided,

    /// <summary>A seat of the hold is sold to someone else (the database is the final arbiter).</summary>
    SeatTaken,

    /// <summary>The general-admission category has fewer tickets left than the purchase asks for.</summary>
    SoldOut,

    /// <summary>Another purchase of the same hold is confirmed already.</summary>
    HoldBoughtAlready,
}

/// <summary>
/// Writes the orders of charged purchases with group commit: the purchases that reach this point while a transaction
/// is committing are written together in the next one — one round trip for the inserts, one guarded increment per
/// general-admission category, one WAL flush — instead of a transaction each. The batch is all or nothing; when it
/// cannot commit because of one purchase (a seat already sold, a category that cannot take the sum, a duplicate
/// delivery), each purchase of the batch is written again alone, so that one purchase never decides another's fate.
/// <para>
/// Correctness rests on constraints, not on what the transaction reads (read committed is enough): the unique index
/// on active (campaign, seat) tickets rejects a seat sold twice whatever the interleaving; general admission is taken
/// with a guarded increment ("sold + n &lt;= capacity"), backed by a CHECK constraint. The increments come last so
/// that the category's row lock is held only from the update to the commit, and in category order so that two
/// writers cannot deadlock on them.
/// </para>
/// </summary>
public sealed partial class OrderWriter(NpgsqlDataSource dataSource, TimeProvider time, WorkerMetrics metrics, ILogger<OrderWriter> logger)
    : GroupCommitWriter<PurchaseRequested, OrderWriteResult>
{
    private const string ActiveSeatIndex = "UX_Tickets_ActiveSeat";
    private const string ConfirmedHoldIndex = "UX_Purchases_ConfirmedHold";

    public Task<OrderWriteResult> WriteAsync(PurchaseRequested purchase, CancellationToken cancellationToken) =>
        EnqueueAsync(purchase, cancellationToken);

    protected override string WriteName => "write order";

    protected override async Task WriteBatchAsync(IReadOnlyList<Pending> batch, CancellationToken cancellationToken)
    {
        using var activity = WorkerTracing.StartOrderBatch(batch.Select(o => o.Trace).ToList());
        foreach (var pending in batch)
        {
            pending.Batch = activity?.Context ?? default;
        }

        metrics.OrderBatch(batch.Count);
        if (batch.Count > 1)
        {
            try
            {
                if (await WriteInOneTransactionAsync(batch.Select(o => o.Item).ToList(), cancellationToken))
                {
                    foreach (var order in batch)
                    {
                        order.Result.TrySetResult(OrderWriteResult.Written);
                    }

                    return;
                }
            }
            catch (PostgresException ex) when (IsIntegrityViolation(ex))
            {
                LogBatchRejected(logger, ex.ConstraintName);
            }
            catch (PurchaseDecidedException)
            {
                LogBatchRejected(logger, "a purchase decided already");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Not about one purchase (the database is down, …): every purchase of the batch is retried later.
                foreach (var order in batch)
                {
                    order.Result.TrySetException(ex);
                }

                return;
            }
        }

        foreach (var order in batch)
        {
            try
            {
                order.Result.TrySetResult(await WriteAloneAsync(order.Item, cancellationToken));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                order.Result.TrySetException(ex);
            }
        }
    }

    private async Task<OrderWriteResult> WriteAloneAsync(PurchaseRequested purchase, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteInOneTransactionAsync([purchase], cancellationToken) ? OrderWriteResult.Written : OrderWriteResult.SoldOut;
        }
        catch (PurchaseDecidedException)
        {
            // Failed meanwhile (by the sweeper, past its deadline): the order is not written.
            return OrderWriteResult.AlreadyDecided;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // The seat is sold, or another purchase of the hold is confirmed, or else the order or the purchase's
            // outcome exists: a concurrent delivery of this same message committed first.
            return ex.ConstraintName switch
            {
                // Tickets are partitioned: the index that refuses is the partition's part, "UX_Tickets_ActiveSeat_3".
                { } name when name.StartsWith(ActiveSeatIndex, StringComparison.Ordinal) => OrderWriteResult.SeatTaken,
                ConfirmedHoldIndex => OrderWriteResult.HoldBoughtAlready,
                _ => OrderWriteResult.AlreadyDecided,
            };
        }
    }

    /// <summary>
    /// True when committed; false (rolled back) when a general-admission category cannot take its sum. A few quick
    /// retries on transient errors: after a database restart the pool still holds dead connections.
    /// </summary>
    private async Task<bool> WriteInOneTransactionAsync(IReadOnlyList<PurchaseRequested> purchases, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryWriteAsync(purchases, cancellationToken);
            }
            catch (NpgsqlException ex) when (ex.IsTransient && attempt < 3)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), time, cancellationToken);
            }
        }
    }

    // Plain SQL rather than EF Core's change tracker: one statement per table over arrays (unnest) costs the Worker
    // and PostgreSQL a fraction of what one INSERT per row does, and this is the hottest write of a sale.
    private async Task<bool> TryWriteAsync(IReadOnlyList<PurchaseRequested> purchases, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        await using (var inserts = Inserts(connection, transaction, purchases, now))
        {
            await inserts.ExecuteNonQueryAsync(cancellationToken);
            // Only a pending purchase is confirmed: one that the sweeper failed past its deadline stays failed.
            if (inserts.BatchCommands[^1].RecordsAffected != purchases.Count)
            {
                throw new PurchaseDecidedException();
            }
        }

        var takenByCategory = purchases
            .Where(p => p.GeneralAdmissionCategoryId is not null)
            .GroupBy(p => p.GeneralAdmissionCategoryId!.Value)
            .Select(g => (Category: g.Key, Quantity: g.Sum(p => p.Quantity)))
            .OrderBy(c => c.Category);
        foreach (var (category, quantity) in takenByCategory)
        {
            await using var take = new NpgsqlCommand(
                """
                UPDATE "GeneralAdmissionCategories" SET "Sold" = "Sold" + $2, "Version" = "Version" + 1
                WHERE "Id" = $1 AND "Sold" + $2 <= "Capacity"
                """, connection, transaction)
            {
                Parameters = { new() { Value = category }, new() { Value = quantity } },
            };
            if (await take.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static NpgsqlBatch Inserts(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<PurchaseRequested> purchases, DateTimeOffset now)
    {
        var tickets = purchases.SelectMany(p => Enumerable.Range(0, p.TicketCount).Select(i => (Purchase: p, Seat: i < p.Seats.Count ? p.Seats[i] : (int?)null))).ToList();
        var confirmed = nameof(OrderStatus.Confirmed);
        return new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Command(
                    """
                    INSERT INTO "Orders" ("Id", "CampaignId", "UserId", "Status", "TotalCents", "CreatedAt", "Version")
                    SELECT o.id, o.campaign, o.buyer, $4, o.total, $5, 0 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $6::bigint[]) AS o(id, campaign, buyer, total)
                    """,
                    purchases.Select(p => p.PurchaseId).ToArray(), purchases.Select(p => p.CampaignId).ToArray(), purchases.Select(p => p.UserId).ToArray(),
                    confirmed, now, purchases.Select(p => p.AmountCents).ToArray()),
                Command(
                    """
                    INSERT INTO "Tickets" ("Id", "OrderId", "CampaignId", "SeatIndex", "GeneralAdmissionCategoryId", "PriceCents", "Active")
                    SELECT t.id, t.purchase, t.campaign, t.seat, t.category, t.price, TRUE
                    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::integer[], $5::uuid[], $6::bigint[]) AS t(id, purchase, campaign, seat, category, price)
                    """,
                    tickets.Select(_ => Guid.CreateVersion7()).ToArray(), tickets.Select(t => t.Purchase.PurchaseId).ToArray(),
                    tickets.Select(t => t.Purchase.CampaignId).ToArray(), tickets.Select(t => t.Seat).ToArray(),
                    tickets.Select(t => t.Purchase.GeneralAdmissionCategoryId).ToArray(),
                    tickets.Select(t => t.Purchase.AmountCents / Math.Max(t.Purchase.TicketCount, 1)).ToArray()),
                Command(
                    """
                    INSERT INTO "Payments" ("PurchaseId", "GatewayChargeId", "AmountCents", "Status", "ChargedAt")
                    SELECT p.id, p.charge, p.amount, $4, $5 FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS p(id, charge, amount)
                    """,
                    purchases.Select(p => p.PurchaseId).ToArray(), purchases.Select(p => p.PurchaseId.ToString("N")).ToArray(),
                    purchases.Select(p => p.AmountCents).ToArray(), nameof(PaymentStatus.Charged), now),
                // The order's e-mail and webhooks, committed with it (the Purchases command stays last: its count is checked).
                Command(
                    """
                    INSERT INTO "OutboxMessages" ("Type", "CampaignId", "OrderId", "OccurredAt", "MailPending", "MailAttempts", "WebhooksPending")
                    SELECT $3, o.campaign, o.id, $4, TRUE, 0, TRUE FROM unnest($1::uuid[], $2::uuid[]) AS o(id, campaign)
                    """,
                    purchases.Select(p => p.PurchaseId).ToArray(), purchases.Select(p => p.CampaignId).ToArray(), OrderEvents.Confirmed, now),
                Command(
                    """
                    INSERT INTO "Purchases" ("Id", "UserId", "CampaignId", "HoldId", "Status", "AmountCents", "AcceptedAt", "CompletedAt")
                    SELECT p.id, p.buyer, p.campaign, p.hold, $7, p.amount, p.accepted, $8
                    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[], $6::timestamptz[]) AS p(id, buyer, campaign, hold, amount, accepted)
                    ON CONFLICT ("Id") DO UPDATE SET "Status" = EXCLUDED."Status", "CompletedAt" = EXCLUDED."CompletedAt", "Request" = NULL
                    WHERE "Purchases"."Status" = 'Pending'
                    """,
                    purchases.Select(p => p.PurchaseId).ToArray(), purchases.Select(p => p.UserId).ToArray(), purchases.Select(p => p.CampaignId).ToArray(),
                    purchases.Select(p => p.HoldId).ToArray(), purchases.Select(p => p.AmountCents).ToArray(),
                    purchases.Select(p => p.AcceptedAt.ToUniversalTime()).ToArray(), nameof(PurchaseStatus.Confirmed), now),
            },
        };
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    [LoggerMessage(LogLevel.Information, "A batch of orders could not commit together ({Constraint}); writing them one by one")]
    private static partial void LogBatchRejected(ILogger logger, string? constraint);

    /// <summary>A constraint rejected the batch: a unique index, a check, a foreign key (class 23 of SQLSTATE).</summary>
    private static bool IsIntegrityViolation(PostgresException ex) => ex.SqlState.StartsWith("23", StringComparison.Ordinal);

    /// <summary>A purchase of the batch was decided (failed) before its order could be written.</summary>
    private sealed class PurchaseDecidedException : Exception;
}
