using System.Collections.Concurrent;
using System.ComponentModel;
using System.Net;
using Microsoft.Extensions.Caching.Hybrid;
using Polly;
using StackExchange.Redis;
using TicketSale.Core.Messaging;
using TicketSale.Web.Sessions;

namespace TicketSale.Web.WaitingRoom;

/// <summary>
/// What the gateway needs to know of a campaign to answer its waiting room, read from the Api's internal campaign
/// endpoint (the gateway has no database) and kept in memory: a sale's herd of polls costs the Api one request every
/// few seconds (HybridCache lets one of a burst of misses fetch it for all), and a change an admin makes is dropped
/// at once when the Api announces it. When no Api answers, the room goes on with what was last read of a campaign:
/// its visitors keep their places and learn when they are admitted, and holds wait for the Api anyway.
/// </summary>
public sealed partial class CampaignLookup(HybridCache cache, IHttpClientFactory clients, IConfiguration configuration, ILogger<CampaignLookup> logger)
{
    private static readonly HybridCacheEntryOptions s_entry = new()
    {
        Expiration = TimeSpan.FromSeconds(5),
        LocalCacheExpiration = TimeSpan.FromSeconds(5),
        // Memory only: the Api's own cache is the shared one.
        Flags = HybridCacheEntryFlags.DisableDistributedCache,
    };

    /// <summary>
    /// How long a read waits for an Api: while none answers, one poll in five seconds waits this long, and the others
    /// are answered from memory.
    /// </summary>
    private static readonly TimeSpan s_fetchTimeout = TimeSpan.FromSeconds(2);

    // Existing campaigns only (a bogus id is never kept here), so its size is bounded by the campaigns there are.
    private readonly ConcurrentDictionary<Guid, CampaignOpening> _lastRead = new();

    public async Task<CampaignOpening?> GetAsync(Guid campaignId, CancellationToken cancellationToken = default)
    {
        var cached = await cache.GetOrCreateAsync(Key(campaignId), (Lookup: this, Id: campaignId),
            static (state, ct) => state.Lookup.ReadAsync(state.Id, ct), s_entry, cancellationToken: cancellationToken);
        return cached.Campaign;
    }

    public Task ForgetAsync(Guid campaignId) => cache.RemoveAsync(Key(campaignId)).AsTask();

    private async ValueTask<CachedOpening> ReadAsync(Guid campaignId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_fetchTimeout);
        try
        {
            using var api = clients.CreateClient(BrowserSessions.ApiClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/internal/campaigns/{campaignId}");
            OperatorAccess.Authorize(request, configuration);
            using var response = await api.SendAsync(request, timeout.Token);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                _lastRead.TryRemove(campaignId, out _);
                return new CachedOpening(null);
            }

            response.EnsureSuccessStatusCode();
            var campaign = await response.Content.ReadFromJsonAsync<CampaignOpening>(timeout.Token);
            _lastRead[campaignId] = campaign!;
            return new CachedOpening(campaign);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or ExecutionRejectedException
            && !cancellationToken.IsCancellationRequested)
        {
            if (_lastRead.TryGetValue(campaignId, out var lastRead))
            {
                LogApiUnavailable(logger, ex, campaignId);
                return new CachedOpening(lastRead);
            }

            // Never read: the visitor is told to come back (503 with Retry-After), as for any dependency that is down.
            throw new HttpRequestException($"No Api answered for campaign {campaignId}.", ex);
        }
    }

    private static string Key(Guid campaignId) => $"ts:web:campaign:{campaignId:N}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "No Api answered for campaign {CampaignId}; its waiting room goes on with what was last read of it")]
    private static partial void LogApiUnavailable(ILogger logger, Exception exception, Guid campaignId);

    // "No such campaign" is kept too, so polls for a bogus id do not each reach the Api. Sealed and immutable: HybridCache
    // hands out the one instance instead of a copy per read.
    [ImmutableObject(true)]
    private sealed record CachedOpening(CampaignOpening? Campaign);
}

/// <summary>The part of the Api's campaign details the waiting room reads.</summary>
public sealed record CampaignOpening(Guid Id, Core.Data.CampaignStatus Status, DateTimeOffset SaleOpensAt, bool WaitingRoomEnabled);

/// <summary>Drops the gateway's copy of a campaign when the Api announces a change to it.</summary>
public sealed class CampaignChangeListener(CampaignLookup campaigns, IConnectionMultiplexer redis) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => CampaignChanges.SubscribeAsync(redis, campaigns.ForgetAsync);

    public Task StopAsync(CancellationToken cancellationToken) => CampaignChanges.UnsubscribeAsync(redis);
}
