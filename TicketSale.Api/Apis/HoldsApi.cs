using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
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
        holds.MapDelete("/{holdId:guid}", ReleaseAsync);
        return app;
    }

    /// <summary>
    /// Holds specific seats, or a quantity of general admission, all or nothing, in one Redis script: every seat free,
    /// the per-user limit (holds and orders together) respected, and an expiry set.
    /// </summary>
    private static async Task<Results<Created<HoldResponse>, ValidationProblem, ProblemHttpResult>> PlaceAsync(
        Guid campaignId, HoldRequest request, ClaimsPrincipal user, CampaignCatalog catalog, SeatInventory inventory,
        IServiceProvider services, IOptions<SalesOptions> options, TimeProvider time, HttpContext context, AdmissionTokens admissions,
        CancellationToken cancellationToken)
    {
        if (!user.HasVerifiedEmail())
        {
            return Problems.EmailNotVerified();
        }

        var seats = request.Seats ?? [];
        var isGeneralAdmission = request.GeneralAdmissionCategoryId is not null;
        if (isGeneralAdmission == seats.Count > 0)
        {
            return Problems.Invalid("seats", "Hold either seats, or a general-admission category and a quantity.");
        }

        if (seats.Count > options.Value.MaxSeatsPerHold)
        {
            return Problems.Invalid("seats", $"At most {options.Value.MaxSeatsPerHold} seats per hold.");
        }

        if (seats.Distinct().Count() != seats.Count)
        {
            return Problems.Invalid("seats", "A seat is listed twice.");
        }

        if (isGeneralAdmission && request.Quantity is not (>= 1 and <= 20))
        {
            return Problems.Invalid("quantity", "Between 1 and 20 tickets per hold.");
        }

        if (await catalog.GetAsync(campaignId, cancellationToken) is not { Status: not "Draft" } campaign)
        {
            return Problems.NotFound("No such campaign.");
        }

        if (!campaign.IsOnSale(time.GetUtcNow()))
        {
            return Problems.Conflict("The campaign is not on sale.", "not-on-sale");
        }

        // The token is checked here without Redis; the hold script checks that the admission still runs (not left).
        if (campaign.WaitingRoomEnabled
            && !admissions.IsValid(context.Request.Headers[AdmissionTokens.Header], campaignId, user.UserId(), time.GetUtcNow()))
        {
            return AdmissionRequired();
        }

        foreach (var seat in seats)
        {
            if (seat < 0 || seat >= campaign.SeatCount)
            {
                return Problems.NotFound($"Seat {seat} does not exist in this venue.");
            }
        }

        if (isGeneralAdmission && campaign.GeneralAdmission.All(g => g.Id != request.GeneralAdmissionCategoryId))
        {
            return Problems.NotFound("No such general-admission category in this campaign.");
        }

        var holdId = Guid.CreateVersion7();
        var quantity = isGeneralAdmission ? request.Quantity!.Value : 0;
        // The rate limit is checked inside the hold script, its buckets in the campaign's hash slot.
        var buckets = HttpRateLimits.Buckets(context, RateLimitClasses.Holds, keyPrefix: "");
        var result = await inventory.HoldAsync(campaignId, holdId, user.UserId(), TimeSpan.FromSeconds(campaign.HoldSeconds), campaign.PerUserLimit,
            request.GeneralAdmissionCategoryId, quantity, seats, buckets, campaign.WaitingRoomEnabled);
        if (result.Status == HoldStatus.NotLoaded)
        {
            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<InventoryLoader>().EnsureLoadedAsync(campaignId, cancellationToken);
            result = await inventory.HoldAsync(campaignId, holdId, user.UserId(), TimeSpan.FromSeconds(campaign.HoldSeconds), campaign.PerUserLimit,
                request.GeneralAdmissionCategoryId, quantity, seats, [], campaign.WaitingRoomEnabled);
        }

        if (result.Rate is { } rate)
        {
            HttpRateLimits.Apply(context.Response, rate);
        }

        return result.Status switch
        {
            HoldStatus.RateLimited => HttpRateLimits.TooManyRequests(result.Rate!),
            HoldStatus.Held => TypedResults.Created($"/api/campaigns/{campaignId}/holds/{holdId}",
                new HoldResponse(holdId, campaignId, seats, request.GeneralAdmissionCategoryId, quantity, result.ExpiresAt, null)),
            HoldStatus.Taken => Problems.Conflict("Some of these seats are no longer available.", "seats-taken",
                new Dictionary<string, object?> { ["takenSeats"] = result.TakenSeats }),
            HoldStatus.OverLimit => Problems.Conflict($"At most {campaign.PerUserLimit} tickets per person; you may take {result.Remaining} more.", "per-user-limit",
                new Dictionary<string, object?> { ["remaining"] = result.Remaining }),
            HoldStatus.SoldOut => Problems.Conflict($"Only {result.Remaining} tickets left in this category.", "sold-out",
                new Dictionary<string, object?> { ["left"] = result.Remaining }),
            HoldStatus.UnknownCategory => Problems.NotFound("No such general-admission category in this campaign."),
            HoldStatus.NotAdmitted => AdmissionRequired(),
            _ => Problems.Unavailable(context, "Availability is being rebuilt; try again.", 1),
        };
    }

    private static ProblemHttpResult AdmissionRequired() =>
        TypedResults.Problem("Holding seats needs a valid admission token from this campaign's waiting room, and an admission that still runs.",
            statusCode: StatusCodes.Status403Forbidden, title: "Admission required", type: "https://ticketsale.example/problems/admission-required");

    private static async Task<Results<Ok<HoldResponse>, ProblemHttpResult>> GetAsync(Guid campaignId, Guid holdId, ClaimsPrincipal user, SeatInventory inventory)
    {
        var hold = await inventory.GetHoldAsync(campaignId, holdId);
        return hold is not null && hold.UserId == user.UserId()
            ? TypedResults.Ok(new HoldResponse(holdId, campaignId, hold.Seats, hold.GeneralAdmissionCategoryId, hold.Quantity, hold.ExpiresAt, hold.PurchaseId))
            : Problems.NotFound("No such hold (it may have expired).");
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

// Checked by the handler (the group runs no validation filter): the seats against the configured limit, at most 100.
public sealed record HoldRequest(
    IReadOnlyList<int>? Seats,
    Guid? GeneralAdmissionCategoryId,
    int? Quantity);

public sealed record HoldResponse(Guid HoldId, Guid CampaignId, IReadOnlyList<int> Seats, Guid? GeneralAdmissionCategoryId, int Quantity, DateTimeOffset ExpiresAt, Guid? PurchaseId);
