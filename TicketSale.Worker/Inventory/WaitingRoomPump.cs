using TicketSale.Core.WaitingRoom;

namespace TicketSale.Worker.Inventory;

/// <summary>
/// Keeps every waiting room moving at its rate whether or not anyone is polling: opens it (placing the pre-queue in the order of its draw)
/// when the sale starts, then advances admission a few times a second. Any replica may also advance it when it
/// answers a visitor; the Lua script makes that safe.
/// </summary>
public sealed partial class WaitingRoomPump(WaitingRooms room, TimeProvider time, ILogger<WaitingRoomPump> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var campaign in await room.GetActiveAsync())
                {
                    if (await room.IsDueToOpenAsync(campaign, time.GetUtcNow()) && await room.OpenAsync(campaign) is { } places)
                    {
                        LogOpened(logger, campaign, places);
                    }

                    await room.TickAsync(campaign);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Waiting-room tick failed; next tick tries again");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting room of campaign {CampaignId} opened: {Places} early visitors placed in the order of their draw")]
    private static partial void LogOpened(ILogger logger, Guid campaignId, long places);
}
