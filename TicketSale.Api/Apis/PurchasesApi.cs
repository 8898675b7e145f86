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
using TicketSale.Api.RateLimiting;
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
        EventStreamLimits.Apply(purchases.MapGet("/{id:guid}/events", StreamAsync).WithRateLimitClass(RateLimitClasses.Purchases));
        return app;
    }

    /// <summary>
    /// Accepts a purchase of a hold and answers 202 once the broker has it. The Idempotency-Key names the purchase:
    /// a retry with it gets the same purchase (202, Idempotent-Replayed) whatever happened to the first attempt, and
    /// the key used for another hold is refused.
    /// </summary>
    private static async Task<IResult> PurchaseAsync(
        PurchaseRequest request, HttpContext context, ClaimsPrincipal principal, PurchaseAcceptance acceptance, ILogger<PurchaseRequest> logger)
    {
        if (!principal.HasVerifiedEmail())
        {
            return Problems.EmailNotVerified();
        }

        var key = context.Request.Headers[IdempotencyKeyHeader].ToString();
        if (!IdempotencyKeyFormat().IsMatch(key))
        {
            return Problems.Invalid(IdempotencyKeyHeader, "Required: 8 to 64 letters, digits, '-' or '_'.");
        }

        Acceptance accepted;
        try
        {
            accepted = await acceptance.AcceptAsync(principal.UserId(), key, request.CampaignId, request.HoldId, request.PromoCode is { Length: > 0 } code ? code : null,
                HttpRateLimits.Buckets(context, RateLimitClasses.Purchases, keyPrefix: RateLimitClasses.Purchases + ":"),
                HttpRateLimits.Buckets(context, RateLimitClasses.Lookups, keyPrefix: RateLimitClasses.Lookups + ":"), context.RequestAborted);
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or AlreadyClosedException or OperationInterruptedException
            or RabbitMQ.Client.Exceptions.PublishException or OperationCanceledException or TimeoutException)
        {
            logger.LogWarning(ex, "The broker did not confirm purchase request for hold {HoldId}", request.HoldId);
            return Problems.Unavailable(context, "Purchases cannot be accepted right now; your hold is kept until it expires. Try again shortly with the same Idempotency-Key.", 5);
        }

        if (accepted.Rate is { } rate)
        {
            HttpRateLimits.Apply(context.Response, rate);
        }

        switch (accepted.Outcome)
        {
            case AcceptanceOutcome.Accepted:
                if (accepted.Replayed)
                {
                    context.Response.Headers["Idempotent-Replayed"] = "true";
                }

                return TypedResults.Accepted($"/api/purchases/{accepted.PurchaseId}", new PurchaseResponse(accepted.PurchaseId, "Pending", null, null));
            case AcceptanceOutcome.RateLimited:
                return HttpRateLimits.TooManyRequests(accepted.Rate!);
            case AcceptanceOutcome.CampaignNotFound:
                return Problems.NotFound("No such campaign.");
            case AcceptanceOutcome.HoldNotFound:
                return Problems.NotFound("No such hold (it may have expired).");
            case AcceptanceOutcome.HoldInOtherPurchase:
                return Problems.Conflict($"This hold is already being purchased (purchase {accepted.OtherPurchaseId}).", "hold-in-purchase");
            case AcceptanceOutcome.PromoCodeRefused:
                return PromoCodeRefused(accepted.Refusal!);
            default:
                return TypedResults.Problem("This Idempotency-Key was used with a different request.", statusCode: StatusCodes.Status422UnprocessableEntity);
        }
    }

    private static async Task<Results<Ok<PurchaseResponse>, ProblemHttpResult>> GetAsync(Guid id, ClaimsPrincipal principal, PurchaseStatusStore statuses) =>
        await statuses.GetAsync(id, principal.UserId()) is { } status ? TypedResults.Ok(status) : Problems.NotFound("No such purchase.");

    /// <summary>The purchase's status now, then its outcome as soon as the Worker decides it: no polling.</summary>
    private static async Task<Results<ServerSentEventsResult<PurchaseResponse>, ProblemHttpResult>> StreamAsync(
        Guid id, ClaimsPrincipal principal, PurchaseStatusStore statuses, EventStreamLimits limits, HttpContext context)
    {
        var userId = principal.UserId();
        if (await statuses.GetAsync(id, userId) is null)
        {
            return Problems.NotFound("No such purchase.");
        }

        return TypedResults.ServerSentEvents(limits.EndWhenIdle(statuses.WatchAsync(id, userId, context.RequestAborted), context.RequestAborted), eventType: "purchase");
    }

    /// <summary>A promo code that cannot be used: a field error, or 409 when its budget is spent.</summary>
    public static IResult PromoCodeRefused(Refusal refusal) => refusal.Reason == RefusalReason.UsedUp
        ? refusal.ToProblem()
        : Problems.Invalid(refusal.Field ?? "promoCode", refusal.Detail);

    [GeneratedRegex("^[A-Za-z0-9_-]{8,64}$")]
    private static partial Regex IdempotencyKeyFormat();
}

/// <param name="PromoCode">A promo code of the campaign, optional: its discount is taken off the price, and one of its uses is the purchase's.</param>
public sealed record PurchaseRequest([property: Required] Guid CampaignId, [property: Required] Guid HoldId,
    [property: StringLength(32)] string? PromoCode = null);

public sealed record PurchaseResponse(Guid PurchaseId, string Status, Guid? OrderId, string? FailureReason);
