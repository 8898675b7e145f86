using StackExchange.Redis;

namespace TicketSale.Core.Messaging;

/// <summary>
/// A campaign's details changed (an admin's edit, a move from status to status): announced on a Redis channel, on
/// which every process that keeps a copy of them in memory — each Api replica, the gateway — drops its copy.
/// </summary>
public static class CampaignChanges
{
    private static readonly RedisChannel s_channel = RedisChannel.Literal("ts:catalog:invalidate");

    public static Task AnnounceAsync(IConnectionMultiplexer redis, Guid campaignId) =>
        redis.GetSubscriber().PublishAsync(s_channel, campaignId.ToString("N"));

    public static Task SubscribeAsync(IConnectionMultiplexer redis, Func<Guid, Task> changed) =>
        redis.GetSubscriber().SubscribeAsync(s_channel, (channel, message) =>
        {
            if (Guid.TryParse((string?)message, out var campaignId))
            {
                _ = changed(campaignId);
            }
        });

    public static Task UnsubscribeAsync(IConnectionMultiplexer redis) => redis.GetSubscriber().UnsubscribeAsync(s_channel);
}
