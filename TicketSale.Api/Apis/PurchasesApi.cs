using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using RabbitMQ.Client.Exceptions;
using StackExchange.Redis;
using TicketSale.Api.Sales;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;

namespace TicketSale.Api.Apis;

public static partial class PurchasesApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static IEndpointRouteBuilder MapPurchasesApi(this IEndpointRouteBuilder app)
    {
        var purchases = app.MapGroup("/api/purchases").WithTags("Purchases").RequireAuthorization(TokenValidation.CustomerPolicy);
        // A purchase's rate limit is checked in the script that pins its hold (one round trip), its buckets in the
        // campaign's hash slot; the status reads have the class's buckets of their own.
        purchases.MapPost("/", PurchaseAsync);
        purchases.MapGet("/{id:guid}", GetAsync).WithRateLimitClass(RateLimitClasses.Purchases);
        purchases.MapGet("/{id:guid}/events", StreamAsync).WithRateLimitClass(RateLimitClasses.Purchases);
        return app;
    }

    /// <summary>
    /// Accepts a purchase of a hold: pins the hold so it cannot expire in the queue, publishes the request and waits
    /// for the broker's confirm, and only then answers 202. The Idempotency-Key makes retries safe: the same key
    /// replays the first answer, a different body with it is refused.
    /// </summary>
    private static async Task<IResult> PurchaseAsync(
        PurchaseRequest request, HttpContext context, ClaimsPrincipal principal, IdempotencyStore idempotency, CampaignCatalog catalog,
        SeatInventory inventory, PurchasePublisher publisher, IConnectionMultiplexer redis, IOptions<SalesOptions> options, TimeProvider time,
        ILogger<PurchaseRequest> logger)
    {
        var key = context.Request.Headers[IdempotencyKeyHeader].ToString();
        if (!IdempotencyKeyFormat().IsMatch(key))
        {
            return Problems.Invalid(IdempotencyKeyHeader, "Required: 8 to 64 letters, digits, '-' or '_'.");
        }

        var userId = principal.UserId();
        var fingerprint = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{request.CampaignId:N}:{request.HoldId:N}")));
        var claim = await idempotency.ClaimAsync(userId, key, fingerprint);
        switch (claim.Outcome)
        {
            case IdempotencyOutcome.InFlight:
                return Problems.Conflict("A request with this Idempotency-Key is still being processed.", "idempotency-in-flight");
            case IdempotencyOutcome.Mismatch:
                return TypedResults.Problem("This Idempotency-Key was used with a different request.", statusCode: StatusCodes.Status422UnprocessableEntity);
            case IdempotencyOutcome.Replay:
                context.Response.Headers["Idempotent-Replayed"] = "true";
                return Answer(claim.Stored!);
        }

        try
        {
            var (answer, rate) = await AcceptAsync(request, userId, HttpRateLimits.Buckets(context, RateLimitClasses.Purchases, keyPrefix: RateLimitClasses.Purchases + ":"),
                catalog, inventory, publisher, options.Value, time);
            if (rate is { } decision)
            {
                HttpRateLimits.Apply(context.Response, decision);
                if (!decision.Allowed)
                {
                    // Not an answer to keep: the same key, sent again once the bucket has a token, is a new attempt.
                    await idempotency.AbandonAsync(userId, key);
                    return HttpRateLimits.TooManyRequests(decision);
                }
            }

            // The pending status and the stored answer go out together: one write and one reply read, not two round trips.
            var pending = answer.PurchaseId is { } accepted ? PurchaseOutcomeChannel.RecordPendingAsync(redis.GetDatabase(), accepted, userId) : Task.CompletedTask;
            await Task.WhenAll(pending, idempotency.CompleteAsync(userId, key, answer with { Fingerprint = fingerprint }));
            return Answer(answer);
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or AlreadyClosedException or OperationInterruptedException
            or RabbitMQ.Client.Exceptions.PublishException or OperationCanceledException or TimeoutException)
        {
            logger.LogWarning(ex, "The broker did not confirm purchase request for hold {HoldId}", request.HoldId);
            await idempotency.AbandonAsync(userId, key);
            return Problems.Unavailable(context, "Purchases cannot be accepted right now; your hold is kept until it expires. Try again shortly.", 5);
        }
        catch
        {
            await idempotency.AbandonAsync(userId, key);
            throw;
        }
    }

    private static async Task<(StoredAnswer Answer, RateDecision? Rate)> AcceptAsync(PurchaseRequest request, Guid userId, IReadOnlyList<TokenBucket> buckets,
        CampaignCatalog catalog, SeatInventory inventory, PurchasePublisher publisher, SalesOptions options, TimeProvider time)
    {
        if (await catalog.GetAsync(request.CampaignId) is not { Status: not "Draft" } campaign)
        {
            return (Final(StatusCodes.Status404NotFound, "No such campaign."), null);
        }

        var now = time.GetUtcNow();
        var purchaseId = Guid.CreateVersion7();
        var deadline = now + options.PurchaseDeadline;

        // Pinned past the deadline: the Worker, not the sweeper, decides the fate of a hold being purchased. The pin
        // also checks the rate limit and reads the hold (only the user's own): one Redis round trip for the three.
        var hold = await inventory.PinAsync(request.CampaignId, request.HoldId, userId, purchaseId, deadline + TimeSpan.FromMinutes(5), buckets);
        switch (hold.Status)
        {
            case PinStatus.RateLimited:
                return (Final(StatusCodes.Status429TooManyRequests, "Too many requests."), hold.Rate);
            case PinStatus.NotFound or PinStatus.Expired:
                return (Final(StatusCodes.Status404NotFound, "No such hold (it may have expired)."), hold.Rate);
            case PinStatus.OtherPurchase:
                return (Final(StatusCodes.Status409Conflict, $"This hold is already being purchased (purchase {hold.OtherPurchaseId})."), hold.Rate);
        }

        try
        {
            var amount = hold.GeneralAdmissionCategoryId is { } category
                ? campaign.GeneralAdmission.First(g => g.Id == category).PriceCents * hold.Quantity
                : hold.Seats.Sum(campaign.SeatPrice);
            var message = new PurchaseRequested(purchaseId, userId, request.CampaignId, request.HoldId, hold.Seats,
                hold.GeneralAdmissionCategoryId, hold.Quantity, amount, now, deadline);
            await publisher.PublishAsync(message, CancellationToken.None);
        }
        catch
        {
            await inventory.UnpinAsync(request.CampaignId, request.HoldId, purchaseId);
            throw;
        }

        return (new StoredAnswer("", false, StatusCodes.Status202Accepted, purchaseId, null), hold.Rate);
    }

    private static StoredAnswer Final(int status, string problem) => new("", false, status, null, problem);

    private static IResult Answer(StoredAnswer answer) => answer.Status == StatusCodes.Status202Accepted
        ? TypedResults.Accepted($"/api/purchases/{answer.PurchaseId}", new PurchaseResponse(answer.PurchaseId!.Value, "Pending", null, null))
        : TypedResults.Problem(answer.Problem, statusCode: answer.Status);

    private static async Task<Results<Ok<PurchaseResponse>, ProblemHttpResult>> GetAsync(Guid id, ClaimsPrincipal principal, PurchaseStatusStore statuses) =>
        await statuses.GetAsync(id, principal.UserId()) is { } status ? TypedResults.Ok(status) : Problems.NotFound("No such purchase.");

    /// <summary>The purchase's status now, then its outcome as soon as the Worker decides it: no polling.</summary>
    private static async Task<Results<ServerSentEventsResult<PurchaseResponse>, ProblemHttpResult>> StreamAsync(
        Guid id, ClaimsPrincipal principal, PurchaseStatusStore statuses, HttpContext context)
    {
        var userId = principal.UserId();
        if (await statuses.GetAsync(id, userId) is null)
        {
            return Problems.NotFound("No such purchase.");
        }

        return TypedResults.ServerSentEvents(statuses.WatchAsync(id, userId, context.RequestAborted), eventType: "purchase");
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{8,64}$")]
    private static partial Regex IdempotencyKeyFormat();
}

public sealed record PurchaseRequest([property: Required] Guid CampaignId, [property: Required] Guid HoldId);

public sealed record PurchaseResponse(Guid PurchaseId, string Status, Guid? OrderId, string? FailureReason);
