using System.ComponentModel;
using System.Net;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;
using TicketSale.Core.Messaging;
using TicketSale.Web.Sessions;

namespace TicketSale.Web.WaitingRoom;

/// <summary>
/// What the gateway needs to know of a campaign to answer its waiting room, read from the Api's internal campaign
/// endpoint (the gateway has no database) and kept in memory: a sale's herd of polls costs the Api one request every
/// few seconds (HybridCache lets one of a burst of misses fetch it for all), and a change an admin makes is dropped
/// at once when the Api announces it.
/// </summary>
public sealed class CampaignLookup(HybridCache cache, IHttpClientFactory clients)
{
    private static readonly HybridCacheEntryOptions s_entry = new()
    {
        Expiration = TimeSpan.FromSeconds(5),
        LocalCacheExpiration = TimeSpan.FromSeconds(5),
        // Memory only: the Api's own cache is the shared one.
        Flags = HybridCacheEntryFlags.DisableDistributedCache,
    };

    public async Task<CampaignOpening?> GetAsync(Guid campaignId, CancellationToken cancellationToken = default)
    {
        var cached = await cache.GetOrCreateAsync(Key(campaignId), async ct =>
        {
            using var api = clients.CreateClient(BrowserSessions.ApiClientName);
            using var response = await api.GetAsync(new Uri($"/internal/campaigns/{campaignId}", UriKind.Relative), ct);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new CachedOpening(null);
            }

            response.EnsureSuccessStatusCode();
            return new CachedOpening(await response.Content.ReadFromJsonAsync<CampaignOpening>(ct));
        }, s_entry, cancellationToken: cancellationToken);
        return cached.Campaign;
    }

    public Task ForgetAsync(Guid campaignId) => cache.RemoveAsync(Key(campaignId)).AsTask();

    private static string Key(Guid campaignId) => $"ts:web:campaign:{campaignId:N}";

    // "No such campaign" is kept too, so polls for a bogus id do not each reach the Api. Sealed and immutable: HybridCache
    // hands out the one instance instead of a copy per read.
    [ImmutableObject(true)]
    private sealed record CachedOpening(CampaignOpening? Campaign);
}

/// <summary>The part of the Api's campaign details the waiting room reads.</summary>
public sealed record CampaignOpening(Guid Id, string Status, DateTimeOffset SaleOpensAt, bool WaitingRoomEnabled);

/// <summary>Drops the gateway's copy of a campaign when the Api announces a change to it.</summary>
public sealed class CampaignChangeListener(CampaignLookup campaigns, IConnectionMultiplexer redis) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => CampaignChanges.SubscribeAsync(redis, campaigns.ForgetAsync);

    public Task StopAsync(CancellationToken cancellationToken) => CampaignChanges.UnsubscribeAsync(redis);
}
