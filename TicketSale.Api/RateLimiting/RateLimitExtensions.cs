using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace TicketSale.Api.RateLimiting;

public static class RateLimitExtensions
{
    public static IServiceCollection AddTicketSaleRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TokenBuckets>();
        services.AddSingleton<EventStreamLimits>();

        // The cheap first line, per replica and in memory: a flood from one address is cut before it costs a Redis call.
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var perSecond = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.LocalPerIpPerSecond;
                return RateLimitPartition.GetTokenBucketLimiter(HttpRateLimits.ClientAddress(context), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = perSecond,
                    TokensPerPeriod = perSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = (rejected, _) =>
            {
                rejected.HttpContext.Response.Headers.RetryAfter = "1";
                return ValueTask.CompletedTask;
            };
            limiter.AddPolicy<string, InFlightLimitPolicy>(InFlightLimitPolicy.Name);
        });
        return services;
    }
}
