using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TicketSale.Core.Data;

namespace TicketSale.Worker.Notifications;

/// <summary>
/// Organizers' webhooks. The outbox's events become one delivery per subscription that wants them (fanned out once:
/// a delivery is unique per subscription and event), and each delivery is POSTed, signed, until the receiver answers
/// 2xx; a failure is tried again after a doubling wait, and after <see cref="NotificationOptions.WebhookMaxAttempts"/>
/// the delivery is dead-lettered. Every attempt is logged. Deliveries are locked while sent (FOR UPDATE SKIP LOCKED):
/// Worker replicas never send the same one at once.
/// </summary>
public sealed partial class WebhookDispatcher(IServiceScopeFactory scopes, IHttpClientFactory clients, IOptions<NotificationOptions> options,
    TimeProvider time, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string ClientName = "webhooks";
    private const int Batch = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                busy = await AnythingDueAsync(stoppingToken) && (await FanOutAsync(stoppingToken) | await DeliverDueAsync(stoppingToken));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPassFailed(logger, ex);
            }

            if (!busy)
            {
                await Task.Delay(options.Value.PollInterval, time, stoppingToken);
            }
        }
    }

    /// <summary>
    /// The body receivers get, and sign-checked: <c>{ "id", "type", "occurredAt", "data": { "orderId", "campaignId",
    /// "ticketId" } }</c>. The id is the event's, the same for every attempt, so that a receiver can drop a repeat.
    /// </summary>
    public static string Payload(OutboxMessage message) => JsonSerializer.Serialize(new
    {
        id = EventId(message.Id),
        type = message.Type,
        occurredAt = message.OccurredAt,
        data = new { orderId = message.OrderId, campaignId = message.CampaignId, ticketId = message.TicketId },
    });

    public static string EventId(long outboxId) => string.Create(CultureInfo.InvariantCulture, $"evt_{outboxId}");

    /// <summary>
    /// The signature of Standard Webhooks: base64 HMAC-SHA256, keyed with the secret's bytes, of "id.timestamp.body",
    /// sent as <c>webhook-signature: v1,&lt;signature&gt;</c> beside <c>webhook-id</c> and <c>webhook-timestamp</c>.
    /// </summary>
    public static string Sign(string secret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}")));
    }

    /// <summary>
    /// Whether an event waits for its fan-out or a delivery is due, asked untraced: an idle look every poll would be a
    /// trace of its own each time, burying the ones that matter. The work itself is traced.
    /// </summary>
    private async Task<bool> AnythingDueAsync(CancellationToken cancellationToken)
    {
        using var untraced = OpenTelemetry.SuppressInstrumentationScope.Begin();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        var now = time.GetUtcNow();
        return await db.Database.SqlQuery<bool>(
            $"""
            SELECT EXISTS (SELECT 1 FROM "OutboxMessages" WHERE "WebhooksPending")
                OR EXISTS (SELECT 1 FROM "WebhookDeliveries" WHERE "Status" = 'Pending' AND "NextAttemptAt" <= {now}) AS "Value"
            """).SingleAsync(cancellationToken);
    }

    private async Task<bool> FanOutAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var events = await db.OutboxMessages
                .FromSql($"""SELECT * FROM "OutboxMessages" WHERE "WebhooksPending" ORDER BY "Id" LIMIT 100 FOR UPDATE SKIP LOCKED""")
                .ToListAsync(cancellationToken);
            if (events.Count == 0)
            {
                return false;
            }

            var subscriptions = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.Active).ToListAsync(cancellationToken);
            var now = time.GetUtcNow();
            foreach (var message in events)
            {
                foreach (var subscription in subscriptions.Where(s => (s.CampaignId is null || s.CampaignId == message.CampaignId)
                    && s.Events.Split(',').Contains(message.Type)))
                {
                    // Unique per subscription and event: a fan-out run again after a crash adds nothing.
                    await db.Database.ExecuteSqlAsync(
                        $"""
                        INSERT INTO "WebhookDeliveries" ("SubscriptionId", "OutboxMessageId", "EventType", "Payload", "Status", "Attempts", "NextAttemptAt", "CreatedAt")
                        VALUES ({subscription.Id}, {message.Id}, {message.Type}, {Payload(message)}::jsonb, 'Pending', 0, {now}, {now})
                        ON CONFLICT ("SubscriptionId", "OutboxMessageId") DO NOTHING
                        """, cancellationToken);
                }

                message.WebhooksPending = false;
            }

            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        });
    }

    private async Task<bool> DeliverDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var due = await db.WebhookDeliveries
                .FromSql($"""
                    SELECT * FROM "WebhookDeliveries" WHERE "Status" = 'Pending' AND "NextAttemptAt" <= {time.GetUtcNow()}
                    ORDER BY "NextAttemptAt" LIMIT {Batch} FOR UPDATE SKIP LOCKED
                    """)
                .ToListAsync(cancellationToken);
            if (due.Count == 0)
            {
                return false;
            }

            var subscriptions = await db.WebhookSubscriptions.AsNoTracking().Where(s => due.Select(d => d.SubscriptionId).Contains(s.Id))
                .ToDictionaryAsync(s => s.Id, cancellationToken);
            foreach (var delivery in due)
            {
                await AttemptAsync(db, delivery, subscriptions[delivery.SubscriptionId], cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        });
    }

    private async Task AttemptAsync(TicketSaleDbContext db, WebhookDelivery delivery, WebhookSubscription subscription, CancellationToken cancellationToken)
    {
        var id = EventId(delivery.OutboxMessageId);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", Sign(subscription.Secret, id, timestamp, delivery.Payload));

        int? status = null;
        string? error = null;
        var clock = Stopwatch.StartNew();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Value.WebhookTimeout);
            using var response = await clients.CreateClient(ClientName).SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
            error = response.IsSuccessStatusCode ? null : $"The receiver answered {status}.";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            error = ex is TaskCanceledException ? $"No answer within {options.Value.WebhookTimeout.TotalSeconds:0} s." : ex.Message;
        }

        var now = time.GetUtcNow();
        delivery.Attempts++;
        delivery.LastStatusCode = status;
        delivery.LastError = error is { Length: > 500 } ? error[..500] : error;
        db.WebhookAttempts.Add(new WebhookAttempt
        {
            DeliveryId = delivery.Id,
            At = now,
            StatusCode = status,
            Error = delivery.LastError,
            DurationMs = (int)clock.ElapsedMilliseconds,
        });
        if (error is null)
        {
            delivery.Status = WebhookDeliveryStatus.Delivered;
            delivery.DeliveredAt = now;
        }
        else if (delivery.Attempts >= options.Value.WebhookMaxAttempts)
        {
            delivery.Status = WebhookDeliveryStatus.DeadLettered;
            LogDeadLettered(logger, delivery.Id, delivery.EventType, subscription.Url, delivery.Attempts);
        }
        else
        {
            delivery.NextAttemptAt = now + options.Value.RetryDelay(delivery.Attempts);
        }
    }

    [LoggerMessage(LogLevel.Error, "Webhook delivery {DeliveryId} ({EventType}) to {Url} failed {Attempts} times: dead-lettered")]
    private static partial void LogDeadLettered(ILogger logger, long deliveryId, string eventType, string url, int attempts);

    [LoggerMessage(LogLevel.Warning, "The webhook pass failed; the next one tries again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
