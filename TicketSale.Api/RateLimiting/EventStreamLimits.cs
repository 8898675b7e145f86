using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace TicketSale.Api.RateLimiting;

/// <summary>
/// An event stream holds a connection and a Redis subscription for as long as its reader keeps it open: each replica
/// caps how many one address and one user hold at once (429 beyond), and a stream with nothing to say for
/// <see cref="RateLimitOptions.EventStreamIdleTimeout"/> ends (a browser's EventSource reconnects by itself).
/// </summary>
public sealed class EventStreamLimits : IDisposable
{
    private readonly RateLimitOptions _options;
    private readonly PartitionedRateLimiter<string> _byAddress;
    private readonly PartitionedRateLimiter<string> _byUser;

    public EventStreamLimits(IOptions<RateLimitOptions> options)
    {
        _options = options.Value;
        _byAddress = Concurrency(_options.EventStreamsPerAddress);
        _byUser = Concurrency(_options.EventStreamsPerUser);
    }

    /// <summary>Limits every endpoint of the builder (event streams) by the caps.</summary>
    public static TBuilder Apply<TBuilder>(TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var limits = context.HttpContext.RequestServices.GetRequiredService<EventStreamLimits>();
            return limits.TryOpen(context.HttpContext)
                ? await next(context)
                : TypedResults.Problem("Too many event streams are open from this address or account; close one first.",
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
        });

    /// <summary>Takes a place for this stream under both caps, given back when the response is done; false when full.</summary>
    public bool TryOpen(HttpContext context)
    {
        var address = _byAddress.AttemptAcquire(HttpRateLimits.ClientAddress(context));
        if (!address.IsAcquired)
        {
            address.Dispose();
            return false;
        }

        context.Response.RegisterForDispose(address);
        if (context.User.FindFirst("sub")?.Value is { } user)
        {
            var byUser = _byUser.AttemptAcquire(user);
            if (!byUser.IsAcquired)
            {
                byUser.Dispose();
                return false;
            }

            context.Response.RegisterForDispose(byUser);
        }

        return true;
    }

    /// <summary>The events of <paramref name="source"/> until it ends, or until none came for the idle timeout.</summary>
    public async IAsyncEnumerable<T> EndWhenIdle<T>(IAsyncEnumerable<T> source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var events = source.GetAsyncEnumerator(idle.Token);
        while (true)
        {
            idle.CancelAfter(_options.EventStreamIdleTimeout);
            bool next;
            try
            {
                next = await events.MoveNextAsync();
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            if (!next)
            {
                yield break;
            }

            yield return events.Current;
        }
    }

    public void Dispose()
    {
        _byAddress.Dispose();
        _byUser.Dispose();
    }

    private static PartitionedRateLimiter<string> Concurrency(int permits) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetConcurrencyLimiter(key,
            _ => new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = 0 }));
}
