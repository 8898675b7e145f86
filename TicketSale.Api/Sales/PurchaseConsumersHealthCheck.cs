using Microsoft.Extensions.Diagnostics.HealthChecks;
using TicketSale.Core.Messaging;

namespace TicketSale.Api.Sales;

/// <summary>
/// Degraded when no Worker consumes the purchase queue: purchases are still accepted (the queue keeps them), but none
/// is decided until a Worker is back — what an operator watching the health of the sale needs to know.
/// </summary>
internal sealed class PurchaseConsumersHealthCheck(RabbitMQConnection connection) : IHealthCheck
{
    public const string Name = "purchase-consumers";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var amqp = await connection.GetAsync(cancellationToken);
            await using var channel = await amqp.CreateChannelAsync(cancellationToken: cancellationToken);
            var queue = await channel.QueueDeclarePassiveAsync(PurchaseTopology.Queue, cancellationToken);
            return queue.ConsumerCount > 0
                ? HealthCheckResult.Healthy($"{queue.ConsumerCount} consumers, {queue.MessageCount} purchases queued.")
                : HealthCheckResult.Degraded($"No Worker consumes purchases; {queue.MessageCount} wait in the queue.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The broker's own check says whether it is reachable; this one only speaks of consumers.
            return HealthCheckResult.Degraded("The purchase queue could not be inspected.", ex);
        }
    }
}
