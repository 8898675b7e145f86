using RabbitMQ.Client;

namespace TicketSale.Core.Messaging;

/// <summary>
/// The purchase queues. Declared by whoever connects first (declarations are idempotent), so neither service
/// depends on the other having started.
/// <list type="bullet">
/// <item><c>purchases</c>: a durable quorum queue. Its delivery limit ends redelivery loops: a message that keeps
/// failing is dead-lettered rather than retried for ever.</item>
/// <item><c>purchases.delay</c>: messages wait here for <see cref="RetryDelay"/>, then return to <c>purchases</c> —
/// delayed redelivery while the payment gateway's circuit is open, instead of a hot loop. A quorum queue with
/// at-least-once dead-lettering: it keeps each message until <c>purchases</c> has confirmed taking it back. (Dead-
/// lettering is at-most-once by default: a broker restart that found <c>purchases</c> without a leader yet dropped
/// every message coming back from a classic delay queue.)</item>
/// <item><c>purchases.dead</c>: dead letters; a handler fails the purchase and releases its seats.</item>
/// </list>
/// </summary>
public static class PurchaseTopology
{
    public const string Exchange = "purchases";
    public const string Queue = "purchases";
    public const string RetryExchange = "purchases.retry";
    public const string RetryQueue = "purchases.delay";
    public const string DeadLetterExchange = "purchases.dlx";
    public const string DeadLetterQueue = "purchases.dead";
    /// <summary>The failure reason of a dead-lettered purchase (what the organizer's dashboard counts as dead letters).</summary>
    public const string DeadLetteredReason = "The purchase could not be processed.";
    /// <summary>Deliveries before a message that crashes its consumer is dead-lettered.</summary>
    public const int DeliveryLimit = 5;

    /// <summary>Attempts, one <see cref="RetryDelay"/> apart, before a message that keeps failing is dead-lettered.</summary>
    public const int MaxAttempts = 10;

    public const string AttemptsHeader = "x-ticketsale-attempts";
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    public static async Task DeclareAsync(IChannel channel, CancellationToken cancellationToken = default)
    {
        await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Direct, durable: true, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(RetryExchange, ExchangeType.Direct, durable: true, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(DeadLetterExchange, ExchangeType.Direct, durable: true, cancellationToken: cancellationToken);

        await channel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-delivery-limit"] = DeliveryLimit,
            ["x-dead-letter-exchange"] = DeadLetterExchange,
            ["x-dead-letter-routing-key"] = DeadLetterQueue,
        }, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(Queue, Exchange, Queue, cancellationToken: cancellationToken);

        // One fixed delay for the whole queue: with per-message TTLs a long-waiting message at the head would hold
        // back shorter ones behind it.
        await channel.QueueDeclareAsync(RetryQueue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-dead-letter-strategy"] = "at-least-once",
            // At-least-once dead-lettering requires it: a full queue refuses the publish (the sender's confirm fails)
            // instead of dropping its oldest message.
            ["x-overflow"] = "reject-publish",
            ["x-message-ttl"] = (int)RetryDelay.TotalMilliseconds,
            ["x-dead-letter-exchange"] = Exchange,
            ["x-dead-letter-routing-key"] = Queue,
        }, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(RetryQueue, RetryExchange, RetryQueue, cancellationToken: cancellationToken);

        await channel.QueueDeclareAsync(DeadLetterQueue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
        }, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(DeadLetterQueue, DeadLetterExchange, DeadLetterQueue, cancellationToken: cancellationToken);
    }
}
