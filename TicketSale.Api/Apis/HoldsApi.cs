using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using TicketSale.Api.Sales;
using TicketSale.Core.Inventory;
using TicketSale.Core.WaitingRoom;

namespace TicketSale.Api.Apis;

public static class HoldsApi
{
    public static IEndpointRouteBuilder MapHoldsApi(this IEndpointRouteBuilder app)
    {
        // The handlers check their input themselves. The validation filter would walk the request and the user's
        // claims on every hold, with nothing to check: a tenth of the bytes the Api allocated per hold (allocation profile
        // of api-0 under `./bench.sh --scenarios hot --connections 256`).
        var holds = app.MapGroup("/api/campaigns/{campaignId:guid}/holds").WithTags("Holds").RequireAuthorization(TokenValidation.CustomerPolicy)
            .DisableValidation();
        holds.MapPost("/", PlaceAsync);
        holds.MapGet("/{holdId:guid}", GetAsync);
        holds.MapGet("/{holdId:guid}/price", PriceAsync);
        holds.MapDelete("/{holdId:guid}", ReleaseAsync);
        return app;
    }

    private static async Task<Results<Created<HoldResponse>, ValidationProblem, ProblemHttpResult>> PlaceAsync([AsParameters] PlaceHoldParameters place)
    {
        var (campaignId, request, user, context, placement, cancellationToken) = place;
        if (!user.HasVerifiedEmail())
        {
            return Problems.EmailNotVerified();
        }

        var attempt = await placement.PlaceAsync(campaignId, user.UserId(), request, context.Request.Headers[AdmissionTokens.Header],
            HttpRateLimits.Buckets(context, RateLimitClasses.Holds, keyPrefix: ""), cancellationToken);
        if (attempt.Refusal is { } refusal)
        {
            return refusal is { Reason: RefusalReason.Invalid, Field: { } field } ? Problems.Invalid(field, refusal.Detail) : refusal.ToProblem(context);
        }

        var (result, campaign) = (attempt.Result!, attempt.Campaign!);
        if (result.Rate is { } rate)
        {
            HttpRateLimits.Apply(context.Response, rate);
        }

        return result.Status switch
        {
            HoldStatus.RateLimited => HttpRateLimits.TooManyRequests(result.Rate!),
            HoldStatus.Held => TypedResults.Created($"/api/campaigns/{campaignId}/holds/{attempt.HoldId}",
                new HoldResponse(attempt.HoldId, campaignId, request.Seats ?? [], request.GeneralAdmissionCategoryId, attempt.Quantity, result.ExpiresAt, null)),
            HoldStatus.Taken => Problems.Conflict("Some of these seats are no longer available.", "seats-taken",
                new Dictionary<string, object?> { ["takenSeats"] = result.TakenSeats }),
            HoldStatus.OverLimit => Problems.Conflict($"At most {campaign.PerUserLimit} tickets per person; you may take {result.Remaining} more.", "per-user-limit",
                new Dictionary<string, object?> { ["remaining"] = result.Remaining }),
            HoldStatus.SoldOut => Problems.Conflict($"Only {result.Remaining} tickets left in this category.", "sold-out",
                new Dictionary<string, object?> { ["left"] = result.Remaining }),
            HoldStatus.UnknownCategory => Problems.NotFound("No such general-admission category in this campaign."),
            HoldStatus.NotAdmitted => new Refusal(RefusalReason.AdmissionRequired, HoldPlacement.AdmissionRequired).ToProblem(context),
            HoldStatus.WaitingList => Problems.Conflict("Buyers are waiting for tickets that come back: join the waiting list.", "waiting-list"),
            _ => Problems.Unavailable(context, "Availability is being rebuilt; try again.", 1),
        };
    }

    private static async Task<Results<Ok<HoldResponse>, ProblemHttpResult>> GetAsync(Guid campaignId, Guid holdId, ClaimsPrincipal user, SeatInventory inventory)
    {
        var hold = await inventory.GetHoldAsync(campaignId, holdId);
        return hold is not null && hold.UserId == user.UserId()
            ? TypedResults.Ok(new HoldResponse(holdId, campaignId, hold.Seats, hold.GeneralAdmissionCategoryId, hold.Quantity, hold.ExpiresAt, hold.PurchaseId))
            : Problems.NotFound("No such hold (it may have expired).");
    }

    /// <summary>What buying the hold costs, with a promo code's discount (<c>?promoCode=</c>) before the purchase.</summary>
    private static async Task<IResult> PriceAsync(Guid campaignId, Guid holdId, string? promoCode, ClaimsPrincipal user, SeatInventory inventory,
        CampaignCatalog catalog, PromoCodes promoCodes, CancellationToken cancellationToken)
    {
        var hold = await inventory.GetHoldAsync(campaignId, holdId);
        if (hold is null || hold.UserId != user.UserId() || await catalog.GetAsync(campaignId, cancellationToken) is not { } campaign)
        {
            return Problems.NotFound("No such hold (it may have expired).");
        }

        var quote = await promoCodes.QuoteAsync(campaign, campaign.TicketsOf(hold.Seats, hold.GeneralAdmissionCategoryId, hold.Quantity),
            promoCode is { Length: > 0 } ? promoCode : null, cancellationToken);
        return quote.Refusal is { } refusal ? PurchasesApi.PromoCodeRefused(refusal) : TypedResults.Ok(quote.Value);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ReleaseAsync(Guid campaignId, Guid holdId, ClaimsPrincipal user, SeatInventory inventory)
    {
        var hold = await inventory.GetHoldAsync(campaignId, holdId);
        if (hold is null || hold.UserId != user.UserId())
        {
            return Problems.NotFound("No such hold (it may have expired).");
        }

        if (hold.PurchaseId is not null)
        {
            return Problems.Conflict("This hold is being purchased.", "hold-in-purchase");
        }

        await inventory.ReleaseAsync(campaignId, holdId, user.UserId(), force: false);
        return TypedResults.NoContent();
    }
}

/// <summary>A hold request's route value, body, caller and the logic that places it.</summary>
public readonly record struct PlaceHoldParameters(Guid CampaignId, HoldRequest Request, ClaimsPrincipal User, HttpContext Context, HoldPlacement Placement,
    CancellationToken CancellationToken);

public sealed record HoldResponse(Guid HoldId, Guid CampaignId, IReadOnlyList<int> Seats, Guid? GeneralAdmissionCategoryId, int Quantity, DateTimeOffset ExpiresAt, Guid? PurchaseId);
