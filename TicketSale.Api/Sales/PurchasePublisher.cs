using System.Text.Json;
using RabbitMQ.Client;
using TicketSale.Core.Messaging;

namespace TicketSale.Api.Sales;

/// <summary>
/// Publishes purchase requests with publisher confirms: <see cref="PublishAsync"/> returns only once the broker has
/// written the message to the quorum queue, and throws when it refused it, could not route it or is unreachable.
/// </summary>
public sealed class PurchasePublisher(RabbitMQConnection connection) : IAsyncDisposable
{
    private static readonly TimeSpan s_confirmTimeout = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IChannel? _channel;

    public async Task PublishAsync(PurchaseRequested message, CancellationToken cancellationToken)
    {
        var channel = await GetChannelAsync(cancellationToken);
        var properties = new BasicProperties
        {
            Persistent = true,
            MessageId = message.PurchaseId.ToString("N"),
            ContentType = "application/json",
            Type = nameof(PurchaseRequested),
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_confirmTimeout);
        await channel.BasicPublishAsync(PurchaseTopology.Exchange, PurchaseTopology.Queue, mandatory: true, properties,
            JsonSerializer.SerializeToUtf8Bytes(message), timeout.Token);
    }

    private async Task<IChannel> GetChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_channel is { IsOpen: true } reopened)
            {
                return reopened;
            }

            if (_channel is not null)
            {
                await _channel.DisposeAsync();
            }

            var amqp = await connection.GetAsync(cancellationToken);
            var channel = await amqp.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                cancellationToken);
            await PurchaseTopology.DeclareAsync(channel, cancellationToken);
            return _channel = channel;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }

        _gate.Dispose();
    }
}
