using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;
using TicketSale.Api.Apis;
using TicketSale.Core.Data;
using TicketSale.Core.Messaging;

namespace TicketSale.Api.Sales;

/// <summary>
/// A purchase's status: Redis while it is recent (the Api writes Pending, the Worker the outcome and publishes it),
/// PostgreSQL as the record of every outcome.
/// </summary>
public sealed class PurchaseStatusStore(IConnectionMultiplexer redis, IServiceScopeFactory scopes)
{
    public async Task<PurchaseResponse?> GetAsync(Guid purchaseId, Guid userId) =>
        await FindAsync(purchaseId, userId) is { } record ? new PurchaseResponse(purchaseId, record.Status, record.OrderId, record.FailureReason) : null;

    /// <summary>The user's purchase as Redis keeps it while recent, or else as PostgreSQL recorded it; null if neither has it.</summary>
    public async Task<PurchaseStatusRecord?> FindAsync(Guid purchaseId, Guid userId)
    {
        if (await PurchaseOutcomeChannel.ReadAsync(redis.GetDatabase(), purchaseId) is { } record)
        {
            return record.UserId == userId ? record : null;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        return await db.Purchases.AsNoTracking()
            .Where(p => p.Id == purchaseId && p.UserId == userId)
            .Select(p => new PurchaseStatusRecord(p.UserId, p.Status.ToString(), p.Status == PurchaseStatus.Confirmed ? p.Id : null, p.FailureReason, p.HoldId))
            .FirstOrDefaultAsync();
    }

    public async IAsyncEnumerable<PurchaseResponse> WatchAsync(Guid purchaseId, Guid userId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var updates = Channel.CreateUnbounded<bool>();
        var subscriber = redis.GetSubscriber();
        var channel = PurchaseOutcomeChannel.For(purchaseId);
        void Handler(RedisChannel _, RedisValue __) => updates.Writer.TryWrite(true);
        await subscriber.SubscribeAsync(channel, Handler);
        try
        {
            // Subscribed before reading, so an outcome published in between is not missed.
            while (true)
            {
                var status = await GetAsync(purchaseId, userId);
                if (status is null)
                {
                    yield break;
                }

                yield return status;
                if (status.Status != "Pending")
                {
                    yield break;
                }

                await updates.Reader.ReadAsync(cancellationToken);
            }
        }
        finally
        {
            await subscriber.UnsubscribeAsync(channel, Handler);
        }
    }
}
