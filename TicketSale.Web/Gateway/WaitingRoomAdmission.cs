using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace TicketSale.Web.Gateway;

/// <summary>How many waiting-room requests (joins and polls) the gateway serves at a time.</summary>
public sealed class WaitingRoomAdmissionOptions
{
    public const string Section = "Gateway:WaitingRoom";

    /// <summary>
    /// Small on purpose: a waiting-room request is one Redis call, so 16 at a time still
    /// serve thousands a second, and a herd of joins cannot take the whole machine from the visitors already buying.
    /// </summary>
    [Range(1, 100_000)]
    public int ConcurrencyLimit { get; set; } = 16;

    /// <summary>
    /// Requests that wait at the gateway (in arrival order, costing memory but no CPU) for one of the places above
    /// before being turned away: a turned-away visitor comes back, and each return costs as much as a wait.
    /// </summary>
    [Range(0, 100_000)]
    public int QueueLimit { get; set; } = 4096;

    /// <summary>Those turned away are told to come back after 1 to twice this many seconds, spread so they do not return together.</summary>
    [Range(1, 60)]
    public int RetryAfterSeconds { get; set; } = 2;
}

/// <summary>
/// The waiting room is where the herd lands: tens of thousands of joins in seconds, more than the machine can serve.
/// Unbounded, they queue inside the gateway and Redis, and everything behind them waits as long — holds of the
/// visitors already let in included (the bench measured holds at a 7 s median while a 10 s burst of joins queued).
/// Bounded at the edge, the surplus is answered at once with 503 and Retry-After, a visitor's place once given is
/// kept, and the rest of the Api keeps its speed.
/// </summary>
internal static class WaitingRoomAdmission
{
    public const string Policy = "waiting-room";

    public static IServiceCollection AddWaitingRoomAdmission(this IServiceCollection services)
    {
        services.AddOptions<WaitingRoomAdmissionOptions>().BindConfiguration(WaitingRoomAdmissionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var context = rejected.HttpContext;
                // A token bucket (the per-address limits) tells when its next token comes; the gate does not.
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    var wait = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                    context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                    context.Response.Headers.RetryAfter = wait.ToString(CultureInfo.InvariantCulture);
                    await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context,
                        ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = $"Too many requests from this address; try again in {wait} s." },
                    });
                    return;
                }

                var options = context.RequestServices.GetRequiredService<IOptions<WaitingRoomAdmissionOptions>>().Value;
#pragma warning disable CA5394 // Spreading retries needs no cryptographic randomness.
                var seconds = Random.Shared.Next(1, (2 * options.RetryAfterSeconds) + 1);
#pragma warning restore CA5394
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status503ServiceUnavailable,
                        Title = "The waiting room is busy",
                        Detail = $"Too many visitors are arriving at once; try again in {seconds} s. A place already given is kept.",
                    },
                });
            };
            limiter.AddPolicy(Policy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<WaitingRoomAdmissionOptions>>().Value;
                // One partition: the limit is the gateway's, whoever the visitor.
                return RateLimitPartition.GetConcurrencyLimiter(Policy, _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = options.ConcurrencyLimit,
                    QueueLimit = options.QueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                });
            });
        });
        return services;
    }
}
