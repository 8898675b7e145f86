using System.Diagnostics;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using TicketSale.Core.Messaging;

namespace TicketSale.Worker.Purchases;

/// <summary>
/// Consumes purchase requests with manual acknowledgements and a prefetch window, several at a time.
/// <list type="bullet">
/// <item>decided → ack;</item>
/// <item>gateway unavailable → back through the delay queue (until the purchase's deadline fails it);</item>
/// <item>any other failure (database down, …) → back through the delay queue with its attempt count raised,
/// and to the dead-letter queue after <see cref="PurchaseTopology.MaxAttempts"/>;</item>
/// <item>unreadable or malformed → rejected at once, to the dead-letter queue;</item>
/// <item>a crash of the Worker mid-message → redelivered by the broker; the quorum queue's delivery limit
/// dead-letters a message that keeps crashing it.</item>
/// </list>
/// Republishing is confirmed before the original is acknowledged, so a message is never lost in between.
/// </summary>
public sealed class PurchaseConsumer(RabbitMQConnection connection, IServiceScopeFactory scopes, ILogger<PurchaseConsumer> logger) : BackgroundService
{
    // Enough purchases in flight for the order writer's group commit to fill its batches; each mostly waits on I/O.
    private const ushort Prefetch = 256;
    private const ushort Concurrency = OrderWriter.MaxBatch;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RabbitMQConsumers.RunAsync(connection, logger, async amqp =>
        {
            var channel = await amqp.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true, consumerDispatchConcurrency: Concurrency),
                stoppingToken);
            await PurchaseTopology.DeclareAsync(channel, stoppingToken);
            await channel.BasicQosAsync(0, Prefetch, global: false, stoppingToken);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) => HandleAsync(channel, delivery, stoppingToken);
            await channel.BasicConsumeAsync(PurchaseTopology.Queue, autoAck: false, consumer, stoppingToken);
            return channel;
        }, stoppingToken);
    }

    private async Task HandleAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        PurchaseRequested? purchase;
        try
        {
            purchase = JsonSerializer.Deserialize<PurchaseRequested>(delivery.Body.Span);
        }
        catch (JsonException)
        {
            purchase = null;
        }

        if (purchase?.Problem() is { } problem || purchase is null)
        {
            logger.LogError("Malformed purchase message {MessageId} ({Problem}): dead-lettering it",
                delivery.BasicProperties.MessageId, purchase is null ? "not readable" : purchase.Problem());
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, stoppingToken);
            return;
        }

        using var activity = WorkerTracing.StartProcessing(delivery.BasicProperties, purchase.PurchaseId);
        var attempts = Attempts(delivery.BasicProperties);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var processor = scope.ServiceProvider.GetRequiredService<PurchaseProcessor>();
            if (await processor.ProcessAsync(purchase, stoppingToken) == ProcessingResult.RetryLater)
            {
                await RetryLaterAsync(channel, delivery, attempts, stoppingToken);
            }

            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            if (attempts + 1 >= PurchaseTopology.MaxAttempts)
            {
                logger.LogError(ex, "Purchase {PurchaseId} failed {Attempts} times: dead-lettering it", purchase.PurchaseId, attempts + 1);
                await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, CancellationToken.None);
                return;
            }

            logger.LogWarning(ex, "Purchase {PurchaseId} failed (attempt {Attempt}); retrying after a delay", purchase.PurchaseId, attempts + 1);
            try
            {
                await RetryLaterAsync(channel, delivery, attempts + 1, CancellationToken.None);
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, CancellationToken.None);
            }
            catch (Exception republish) when (republish is not OperationCanceledException)
            {
                // Could not even republish (the broker is going away): let the broker redeliver it.
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
            }
        }
    }

    private static Task RetryLaterAsync(IChannel channel, BasicDeliverEventArgs delivery, int attempts, CancellationToken cancellationToken) =>
        channel.BasicPublishAsync(PurchaseTopology.RetryExchange, PurchaseTopology.RetryQueue, mandatory: true,
            new BasicProperties
            {
                Persistent = true,
                MessageId = delivery.BasicProperties.MessageId,
                ContentType = "application/json",
                Headers = new Dictionary<string, object?> { [PurchaseTopology.AttemptsHeader] = attempts },
            },
            delivery.Body, cancellationToken).AsTask();

    private static int Attempts(IReadOnlyBasicProperties properties) =>
        properties.Headers?.TryGetValue(PurchaseTopology.AttemptsHeader, out var value) == true && value is int attempts ? attempts : 0;
}

/// <summary>
/// The dead-letter handler: a purchase that could not be processed ends failed, refunded and released, never stuck.
/// </summary>
public sealed class DeadLetterConsumer(RabbitMQConnection connection, IServiceScopeFactory scopes, WorkerMetrics metrics, ILogger<DeadLetterConsumer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RabbitMQConsumers.RunAsync(connection, logger, async amqp =>
        {
            var channel = await amqp.CreateChannelAsync(cancellationToken: stoppingToken);
            await PurchaseTopology.DeclareAsync(channel, stoppingToken);
            await channel.BasicQosAsync(0, 16, global: false, stoppingToken);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                PurchaseRequested? purchase = null;
                try
                {
                    purchase = JsonSerializer.Deserialize<PurchaseRequested>(delivery.Body.Span);
                }
                catch (JsonException)
                {
                }

                if (purchase is null || purchase.PurchaseId == Guid.Empty || purchase.CampaignId == Guid.Empty)
                {
                    // Nothing identifies a purchase in it; keep no garbage in the queue.
                    logger.LogError("Dropping unreadable dead letter {MessageId}", delivery.BasicProperties.MessageId);
                    await channel.BasicAckAsync(delivery.DeliveryTag, false, stoppingToken);
                    return;
                }

                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<PurchaseProcessor>()
                        .FailAsync(purchase, PurchaseTopology.DeadLetteredReason, stoppingToken);
                    metrics.DeadLettered();
                    logger.LogWarning("Dead-lettered purchase {PurchaseId} failed and released", purchase.PurchaseId);
                    await channel.BasicAckAsync(delivery.DeliveryTag, false, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "Could not fail dead-lettered purchase {PurchaseId}; retrying shortly", purchase.PurchaseId);
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                    await channel.BasicNackAsync(delivery.DeliveryTag, false, requeue: true, CancellationToken.None);
                }
            };
            await channel.BasicConsumeAsync(PurchaseTopology.DeadLetterQueue, autoAck: false, consumer, stoppingToken);
            return channel;
        }, stoppingToken);
    }
}

internal static class RabbitMQConsumers
{
    /// <summary>Keeps a consuming channel open: opens it, and opens it again whenever the broker closed it.</summary>
    public static async Task RunAsync(RabbitMQConnection connection, ILogger logger, Func<IConnection, Task<IChannel>> open, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var amqp = await connection.GetAsync(stoppingToken);
                await using var channel = await open(amqp);
                while (channel.IsOpen && !stoppingToken.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Consumer channel failed; reopening");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
