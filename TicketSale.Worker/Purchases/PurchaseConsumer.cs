using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using TicketSale.Core.Messaging;

namespace TicketSale.Worker.Purchases;

/// <summary>
/// Consumes purchase requests with manual acknowledgements and a prefetch window, several at a time.
/// <list type="bullet">
/// <item>decided → ack;</item>
/// <item>gateway unavailable → republished to the delay queue (confirmed), then ack;</item>
/// <item>unexpected failure → nack with requeue: the quorum queue counts deliveries and dead-letters the message
/// past its delivery limit;</item>
/// <item>unreadable → rejected at once, to the dead-letter queue.</item>
/// </list>
/// </summary>
public sealed class PurchaseConsumer(RabbitMQConnection connection, IServiceScopeFactory scopes, ILogger<PurchaseConsumer> logger) : BackgroundService
{
    private const ushort Prefetch = 64;
    private const ushort Concurrency = 16;

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

        if (purchase is null)
        {
            logger.LogError("Unreadable purchase message {MessageId}: dead-lettering it", delivery.BasicProperties.MessageId);
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, stoppingToken);
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var processor = scope.ServiceProvider.GetRequiredService<PurchaseProcessor>();
            var result = await processor.ProcessAsync(purchase, stoppingToken);
            if (result == ProcessingResult.RetryLater)
            {
                await channel.BasicPublishAsync(PurchaseTopology.RetryExchange, PurchaseTopology.RetryQueue, mandatory: true,
                    new BasicProperties { Persistent = true, MessageId = delivery.BasicProperties.MessageId, ContentType = "application/json" },
                    delivery.Body, stoppingToken);
            }

            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Purchase {PurchaseId} failed transiently (delivery {Redelivered}); requeueing", purchase.PurchaseId, delivery.Redelivered);
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
        }
    }
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

                if (purchase is null)
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
                        .FailAsync(purchase, "The purchase could not be processed.", stoppingToken);
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
