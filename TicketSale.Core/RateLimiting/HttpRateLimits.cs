using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace TicketSale.Core.RateLimiting;

/// <summary>
/// The Redis token buckets of an HTTP request and how a decision is told to the client; shared by the Api and the
/// gateway, which answers the waiting room itself.
/// </summary>
public static class HttpRateLimits
{
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

    public static ProblemHttpResult TooManyRequests(RateDecision decision) =>
        TypedResults.Problem(
            $"Too many requests; try again in {Math.Max(1, (int)Math.Ceiling(decision.RetryAfter.TotalSeconds))} s.",
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests");

    /// <summary>
    /// The client's address, as the forwarded-headers middleware resolved it behind a proxy. An IPv6 client counts as
    /// its /64: one subscriber is commonly given a whole /64, and would otherwise have 2^64 buckets.
    /// </summary>
    public static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress switch
    {
        null => "unknown",
        { AddressFamily: AddressFamily.InterNetworkV6, IsIPv4MappedToIPv6: false } v6 => Prefix64(v6),
        var address => address.ToString(),
    };

    private static string Prefix64(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes) + "/64";
    }
}
