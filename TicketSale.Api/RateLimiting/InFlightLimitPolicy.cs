using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace TicketSale.Api.RateLimiting;

/// <summary>
/// Bounds the requests one replica works on at once: past the bound they wait in a queue, oldest first, and past the
/// queue they are answered 503 at once, with a Retry-After spread over a few seconds. Unbounded, an overloaded replica takes every request in and
/// answers all of them late, past the clients' patience; and each waiting request's objects outlive the young
/// generations of the heap: api-0 went from 317 to 392 MB resident in the 5 seconds of the stress ramp's
/// 2,048-connection step, and gave it back only at the next full collection a minute later.
/// </summary>
public sealed class InFlightLimitPolicy(IOptions<RateLimitOptions> options) : IRateLimiterPolicy<string>
{
    public const string Name = "in-flight";

    /// <summary>
    /// Those turned away are told to come back after 1 to this many seconds, drawn for each: told the same second,
    /// every client refused in one burst comes back in the same second and is refused again together.
    /// </summary>
    public const int MaxRetryAfterSeconds = 3;

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = (rejected, _) =>
    {
#pragma warning disable CA5394 // Spreading retries needs no cryptographic randomness.
        var seconds = Random.Shared.Next(1, MaxRetryAfterSeconds + 1);
#pragma warning restore CA5394
        return new(Problems.Unavailable(rejected.HttpContext, $"This server is busy; try again in {seconds} s.", seconds).ExecuteAsync(rejected.HttpContext));
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext) =>
        RateLimitPartition.GetConcurrencyLimiter(Name, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = options.Value.MaxRequestsInFlight,
            QueueLimit = options.Value.InFlightQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });

    /// <summary>
    /// Puts the group's endpoints under the bound, except event streams: a stream stays open as long as its reader
    /// watches, and would keep its place for all that time. Decided once per endpoint, when it is built (after
    /// its handler's own metadata), not on every request.
    /// </summary>
    public static TBuilder AppliesTo<TBuilder>(TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            var eventStream = endpoint.Metadata.OfType<Microsoft.AspNetCore.Http.Metadata.IProducesResponseTypeMetadata>()
                .Any(m => m.ContentTypes.Contains("text/event-stream"));
            if (!eventStream)
            {
                endpoint.Metadata.Add(new EnableRateLimitingAttribute(Name));
            }
        });
        return builder;
    }
}
