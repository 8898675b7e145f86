using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TicketSale.Core.Auth;

/// <summary>
/// Where tokens are checked with the key set the Api publishes (the gateway), fetches it at start-up instead of at the
/// first request that needs it: that request could come while every Api replica is down, when the gateway must go on
/// answering with the keys it has.
/// </summary>
internal sealed partial class SigningKeysWarmUp(IOptionsMonitor<JwtBearerOptions> options, ILogger<SigningKeysWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Get(JwtBearerDefaults.AuthenticationScheme).ConfigurationManager is not { } keys)
        {
            return;
        }

        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await keys.GetConfigurationAsync(stoppingToken);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogNotYet(logger, ex, attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Api's signing keys could not be fetched yet (attempt {Attempt}); trying again")]
    private static partial void LogNotYet(ILogger logger, Exception exception, int attempt);
}
