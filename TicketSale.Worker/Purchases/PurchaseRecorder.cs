using System.Text.Json;
using Npgsql;
using TicketSale.Core.Data;
using TicketSale.Core.Messaging;

namespace TicketSale.Worker.Purchases;

/// <summary>
/// Records accepted purchases in PostgreSQL as pending before anything charges them, and tells what each already is.
/// From then on the purchase no longer depends on the queue: if its message is lost, the <see cref="PurchaseSweeper"/>
/// decides it from this row once its deadline has passed. Batched by group commit.
/// </summary>
public sealed class PurchaseRecorder(NpgsqlDataSource dataSource) : GroupCommitWriter<PurchaseRequested, PurchaseStatus>
{
    /// <summary>The purchase's status once recorded: Pending, or its outcome when an earlier delivery decided it.</summary>
    public Task<PurchaseStatus> RecordAsync(PurchaseRequested purchase, CancellationToken cancellationToken) =>
        EnqueueAsync(purchase, cancellationToken);

    protected override string WriteName => "record purchase";

    protected override async Task WriteBatchAsync(IReadOnlyList<Pending> batch, CancellationToken cancellationToken)
    {
        try
        {
            var statuses = await WriteAsync(batch.Select(p => p.Item).ToList(), cancellationToken);
            foreach (var pending in batch)
            {
                // A row that is still missing was written by nobody: throw, so the message is retried.
                if (statuses.TryGetValue(pending.Item.PurchaseId, out var status))
                {
                    pending.Result.TrySetResult(status);
                }
                else
                {
                    pending.Result.TrySetException(new InvalidOperationException($"Purchase {pending.Item.PurchaseId} was not recorded."));
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            foreach (var pending in batch)
            {
                pending.Result.TrySetException(ex);
            }
        }
    }

    private async Task<Dictionary<Guid, PurchaseStatus>> WriteAsync(List<PurchaseRequested> purchases, CancellationToken cancellationToken)
    {
        var ids = purchases.Select(p => p.PurchaseId).ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One implicit transaction: the insert is durable (committed) when the statuses come back.
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(
                    // Recorded, and the organizers' "order placed" with it (only for a purchase recorded now).
                    """
                    WITH recorded AS (
                        INSERT INTO "Purchases" ("Id", "UserId", "CampaignId", "HoldId", "Status", "AmountCents", "AcceptedAt", "Deadline", "Request")
                        SELECT p.id, p.buyer, p.campaign, p.hold, 'Pending', p.amount, p.accepted, p.deadline, p.request::jsonb
                        FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[], $6::timestamptz[], $7::timestamptz[], $8::text[])
                            AS p(id, buyer, campaign, hold, amount, accepted, deadline, request)
                        ON CONFLICT ("Id") DO NOTHING
                        RETURNING "Id", "CampaignId", "AcceptedAt")
                    INSERT INTO "OutboxMessages" ("Type", "CampaignId", "OrderId", "OccurredAt", "MailPending", "MailAttempts", "WebhooksPending")
                    SELECT $9, "CampaignId", "Id", "AcceptedAt", FALSE, 0, TRUE FROM recorded
                    """)
                {
                    Parameters =
                    {
                        new() { Value = ids },
                        new() { Value = purchases.Select(p => p.UserId).ToArray() },
                        new() { Value = purchases.Select(p => p.CampaignId).ToArray() },
                        new() { Value = purchases.Select(p => p.HoldId).ToArray() },
                        new() { Value = purchases.Select(p => p.AmountCents).ToArray() },
                        new() { Value = purchases.Select(p => p.AcceptedAt.ToUniversalTime()).ToArray() },
                        new() { Value = purchases.Select(p => p.Deadline.ToUniversalTime()).ToArray() },
                        new() { Value = purchases.Select(p => JsonSerializer.Serialize(p)).ToArray() },
                        new() { Value = OrderEvents.Placed },
                    },
                },
                new NpgsqlBatchCommand("""SELECT "Id", "Status" FROM "Purchases" WHERE "Id" = ANY($1)""") { Parameters = { new() { Value = ids } } },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var statuses = new Dictionary<Guid, PurchaseStatus>(purchases.Count);
        while (await reader.ReadAsync(cancellationToken))
        {
            statuses[reader.GetGuid(0)] = Enum.Parse<PurchaseStatus>(reader.GetString(1));
        }

        // The implicit transaction commits at the end of the batch: read to its end, so that a failed commit throws.
        while (await reader.NextResultAsync(cancellationToken))
        {
        }

        return statuses;
    }
}
