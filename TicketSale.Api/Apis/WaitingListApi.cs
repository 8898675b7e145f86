using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using TicketSale.Api.RateLimiting;
using TicketSale.Api.Sales;

namespace TicketSale.Api.Apis;

public static class WaitingListApi
{
    public static IEndpointRouteBuilder MapWaitingListApi(this IEndpointRouteBuilder app)
    {
        var list = app.MapGroup("/api/campaigns/{campaignId:guid}/waiting-list").WithTags("Waiting list")
            .RequireAuthorization(TokenValidation.CustomerPolicy);
        list.MapGet("/", GetAsync).WithRateLimitClass(RateLimitClasses.Lookups);
        list.MapPost("/", JoinAsync).WithRateLimitClass(RateLimitClasses.Purchases);
        list.MapDelete("/", LeaveAsync).WithRateLimitClass(RateLimitClasses.Purchases);
        return app;
    }

    private static async Task<Ok<WaitingListView>> GetAsync(Guid campaignId, ClaimsPrincipal user, WaitingLists lists, CancellationToken cancellationToken) =>
        TypedResults.Ok(await lists.ViewAsync(campaignId, user.UserId(), cancellationToken));

    /// <summary>Joins a sold-out campaign's waiting list at the back: 201 with the place, 409 when the tickets are there to hold.</summary>
    private static async Task<Results<Created<WaitingListView>, ValidationProblem, ProblemHttpResult>> JoinAsync(Guid campaignId,
        JoinWaitingListRequest request, ClaimsPrincipal user, HttpContext context, WaitingLists lists, CancellationToken cancellationToken)
    {
        if (!user.HasVerifiedEmail())
        {
            return Problems.EmailNotVerified();
        }

        var (view, refusal) = await lists.JoinAsync(campaignId, user.UserId(), request, cancellationToken);
        return refusal switch
        {
            null => TypedResults.Created($"/api/campaigns/{campaignId}/waiting-list", view),
            { Reason: RefusalReason.Invalid } => Problems.Invalid(refusal.Field!, refusal.Detail),
            _ => refusal.ToProblem(context),
        };
    }

    private static async Task<Results<Ok<WaitingListView>, ProblemHttpResult>> LeaveAsync(Guid campaignId, ClaimsPrincipal user, HttpContext context,
        WaitingLists lists, CancellationToken cancellationToken)
    {
        var (view, refusal) = await lists.LeaveAsync(campaignId, user.UserId(), cancellationToken);
        return refusal is null ? TypedResults.Ok(view) : refusal.ToProblem(context);
    }
}
