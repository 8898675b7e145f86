using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TicketSale.Core.Data;

namespace TicketSale.Worker.Notifications;

/// <summary>
/// Deletes what has done its job, or the tables would only grow (every purchase adds outbox rows): outbox rows whose
/// e-mail is sent and whose webhooks are fanned out, once <see cref="NotificationOptions.OutboxRetention"/> old, and
/// delivered webhooks with their attempts once <see cref="NotificationOptions.WebhookLogRetention"/> old. Anything still
/// to send stays, and so do dead letters, until an organizer sends them again. A few thousand rows per statement, so
/// that no statement holds its locks for long.
/// </summary>
public sealed partial class OutboxCleanup(IServiceScopeFactory scopes, IOptions<NotificationOptions> options, TimeProvider time,
    ILogger<OutboxCleanup> logger) : BackgroundService
{
    private const int Batch = 5000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
                var now = time.GetUtcNow();
                var (outboxBefore, logBefore) = (now - options.Value.OutboxRetention, now - options.Value.WebhookLogRetention);
                var messages = await DeleteInBatchesAsync(() => db.Database.ExecuteSqlAsync(
                    $"""
                    DELETE FROM "OutboxMessages" WHERE "Id" IN (
                        SELECT "Id" FROM "OutboxMessages" WHERE NOT "MailPending" AND NOT "WebhooksPending" AND "OccurredAt" < {outboxBefore} LIMIT {Batch})
                    """, stoppingToken));
                // Their attempts go with them (the foreign key cascades).
                var deliveries = await DeleteInBatchesAsync(() => db.Database.ExecuteSqlAsync(
                    $"""
                    DELETE FROM "WebhookDeliveries" WHERE "Id" IN (
                        SELECT "Id" FROM "WebhookDeliveries" WHERE "Status" = 'Delivered' AND "DeliveredAt" < {logBefore} LIMIT {Batch})
                    """, stoppingToken));
                if (messages + deliveries > 0)
                {
                    LogDeleted(logger, messages, deliveries);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, ex);
            }
        }
    }

    private static async Task<int> DeleteInBatchesAsync(Func<Task<int>> deleteBatch)
    {
        int total = 0, deleted;
        do
        {
            deleted = await deleteBatch();
            total += deleted;
        }
        while (deleted == Batch);
        return total;
    }

    [LoggerMessage(LogLevel.Information, "Deleted {Messages} outbox rows and {Deliveries} delivered webhooks past their retention")]
    private static partial void LogDeleted(ILogger logger, int messages, int deliveries);

    [LoggerMessage(LogLevel.Warning, "The outbox could not be cleaned up; the next run tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
