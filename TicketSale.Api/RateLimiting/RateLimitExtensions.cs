using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using TicketSale.Core.RateLimiting;

namespace TicketSale.Api.RateLimiting;

public static class RateLimitExtensions
{
    public static IServiceCollection AddTicketSaleRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TokenBuckets>();

        // The cheap first line, per replica and in memory: a flood from one address is cut before it costs a Redis call.
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var perSecond = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.LocalPerIpPerSecond;
                return RateLimitPartition.GetTokenBucketLimiter(ClientAddress(context), _ => new TokenBucketRateLimiterOptions
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
        });
        return services;
    }

    /// <summary>Limits every endpoint of the group by the Redis token buckets of its class.</summary>
    public static TBuilder WithRateLimitClass<TBuilder>(this TBuilder builder, string rateLimitClass) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var buckets = Buckets(http, rateLimitClass, keyPrefix: rateLimitClass + ":");
            var decision = await http.RequestServices.GetRequiredService<TokenBuckets>().TakeAsync(buckets);
            Apply(http.Response, decision);
            return decision.Allowed ? await next(context) : TooManyRequests(decision);
        });

    /// <summary>
    /// The buckets of a class for this request: one per signed-in user, one per client address. Keys start with
    /// <paramref name="keyPrefix"/> (the holds class puts them under the campaign's hash slot instead).
    /// </summary>
    public static IReadOnlyList<TokenBucket> Buckets(HttpContext context, string rateLimitClass, string keyPrefix)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        if (!options.Classes.TryGetValue(rateLimitClass, out var limits))
        {
            return [];
        }

        var buckets = new List<TokenBucket>(2);
        if (limits.PerUser is { } perUser && context.User.FindFirst("sub")?.Value is { } user)
        {
            buckets.Add(new TokenBucket($"{keyPrefix}u:{user}", perUser.Capacity, perUser.PerSecond));
        }

        if (limits.PerIp is { } perIp)
        {
            buckets.Add(new TokenBucket($"{keyPrefix}ip:{ClientAddress(context)}", perIp.Capacity, perIp.PerSecond));
        }

        return buckets;
    }

    /// <summary>The sign-in bucket of one account, keyed by a hash of the e-mail address.</summary>
    public static IReadOnlyList<TokenBucket> SignInBuckets(HttpContext context, string email)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        return options.Classes.TryGetValue(RateLimitClasses.SignIn, out var limits) && limits.PerUser is { } perAccount
            ? [new TokenBucket($"{RateLimitClasses.SignIn}:u:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(email)))[..24]}", perAccount.Capacity, perAccount.PerSecond)]
            : [];
    }

    /// <summary>RateLimit-Limit / -Remaining on every limited answer; Retry-After and RateLimit-Reset when refused.</summary>
    public static void Apply(HttpResponse response, RateDecision decision)
    {
        if (decision.Limit <= 0)
        {
            return;
        }

        response.Headers["RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers["RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        if (!decision.Allowed)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(decision.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            response.Headers.RetryAfter = seconds;
            response.Headers["RateLimit-Reset"] = seconds;
        }
    }

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult TooManyRequests(RateDecision decision) =>
        TypedResults.Problem(
            $"Too many requests; try again in {Math.Max(1, (int)Math.Ceiling(decision.RetryAfter.TotalSeconds))} s.",
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests");

    /// <summary>The client's address, as the forwarded-headers middleware resolved it behind the gateway.</summary>
    public static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
