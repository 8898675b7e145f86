using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using TicketSale.Core.RateLimiting;

namespace TicketSale.Web.Gateway;

/// <summary>Requests per client address that each gateway replica lets through to sign-in and to the waiting room.</summary>
public sealed class AddressLimitOptions
{
    public const string Section = "Gateway:AddressLimits";

    /// <summary>Sign-ins, registrations and session refreshes (through the browser path or the API).</summary>
    [Range(1, 1_000_000)]
    public int SignInBurst { get; set; } = 30;

    [Range(0.001, 1_000_000)]
    public double SignInPerSecond { get; set; } = 1;

    /// <summary>Joins and polls of waiting rooms: one address may be a whole office or campus behind one NAT.</summary>
    [Range(1, 1_000_000)]
    public int WaitingRoomBurst { get; set; } = 600;

    [Range(0.001, 1_000_000)]
    public double WaitingRoomPerSecond { get; set; } = 200;
}

/// <summary>
/// The gateway's own first line, in memory: a flood of sign-ins or waiting-room requests from one address is answered
/// 429 here before it costs an Api call, a password hash or a Redis script. The shared limits in Redis behind it (per
/// address and per account) still decide for all replicas together.
/// </summary>
internal static class AddressLimits
{
    public static IServiceCollection AddAddressLimits(this IServiceCollection services)
    {
        services.AddOptions<AddressLimitOptions>().BindConfiguration(AddressLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.Configure<RateLimiterOptions>(limiter => limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            var options = context.RequestServices.GetRequiredService<IOptions<AddressLimitOptions>>().Value;
            return Kind(context.Request) switch
            {
                "signin" => Bucket("signin:" + HttpRateLimits.ClientAddress(context), options.SignInBurst, options.SignInPerSecond),
                "waitingroom" => Bucket("waitingroom:" + HttpRateLimits.ClientAddress(context), options.WaitingRoomBurst, options.WaitingRoomPerSecond),
                _ => RateLimitPartition.GetNoLimiter(""),
            };
        }));
        return services;
    }

    private static string? Kind(HttpRequest request)
    {
        var path = request.Path;
        if (HttpMethods.IsPost(request.Method)
            && (path.StartsWithSegments("/bff/login") || path.StartsWithSegments("/api/auth/login")
                || path.StartsWithSegments("/api/auth/register") || path.StartsWithSegments("/api/auth/refresh")))
        {
            return "signin";
        }

        // Leaving the waiting room is never limited: it frees room.
        return !HttpMethods.IsDelete(request.Method) && path.StartsWithSegments("/api/campaigns") && path.Value!.TrimEnd('/').EndsWith("/waiting-room", StringComparison.Ordinal)
            ? "waitingroom"
            : null;
    }

    /// <summary>Tokens per second as a bucket refilled every 100 ms (the limiter's periods are whole tokens).</summary>
    private static RateLimitPartition<string> Bucket(string key, int burst, double perSecond) =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ =>
        {
            var period = perSecond >= 10 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1 / perSecond);
            return new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                TokensPerPeriod = Math.Max(1, (int)Math.Round(perSecond * period.TotalSeconds)),
                ReplenishmentPeriod = period,
                QueueLimit = 0,
                AutoReplenishment = true,
            };
        });
}
