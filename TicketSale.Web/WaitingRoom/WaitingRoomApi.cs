using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TicketSale.Core.Auth;
using TicketSale.Core.Data;
using TicketSale.Core.Http;
using TicketSale.Core.RateLimiting;
using TicketSale.Core.WaitingRoom;
using TicketSale.Web.Gateway;

namespace TicketSale.Web.WaitingRoom;

/// <summary>
/// The waiting room, answered here at the edge as hosted waiting rooms answer at the CDN: its joins and polls are
/// most of a flash sale's requests (72% in the bench), and each costs one Redis script call. Proxied to an Api they
/// cost a second HTTP hop each, which on a saturated machine was most of their price (`./bench.sh --scenarios flash`). The
/// Api checks the admission tokens issued here on every hold.
/// </summary>
public static class WaitingRoomApi
{
    public static IServiceCollection AddWaitingRoom(this IServiceCollection services)
    {
        services.AddOptions<WaitingRoomOptions>().BindConfiguration(WaitingRoomOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AdmissionTokens>();
        services.AddSingleton<PreQueueDraws>();
        services.AddSingleton<WaitingRooms>();
        services.AddSingleton<TokenBuckets>();
        services.AddHybridCache();
        services.AddSingleton<CampaignLookup>();
        services.AddHostedService<CampaignChangeListener>();
        return services;
    }

    public static IEndpointRouteBuilder MapWaitingRoomApi(this IEndpointRouteBuilder app)
    {
        var room = app.MapGroup("/api/campaigns/{campaignId:guid}/waiting-room").WithTags("Waiting room")
            .RequireAuthorization(TokenValidation.CustomerPolicy);
        // Joins and polls are limited inside the waiting room's own script, their buckets in the campaign's hash slot:
        // one Redis round trip each. The gateway's gate bounds how many it serves at a time; a visitor leaving is cheap
        // and frees room, so it is never turned away there.
        room.MapPost("/", JoinAsync).RequireRateLimiting(WaitingRoomAdmission.Policy);
        room.MapGet("/", StatusAsync).RequireRateLimiting(WaitingRoomAdmission.Policy);
        room.MapDelete("/", LeaveAsync).WithRateLimitClass(RateLimitClasses.Reads);
        room.MapPost("/away", AwayAsync).WithRateLimitClass(RateLimitClasses.Reads);
        return app;
    }

    /// <summary>Takes a place (or finds the one this visitor already has: a second tab keeps the same place).</summary>
    private static async Task<Results<Ok<WaitingRoomResponse>, ProblemHttpResult>> JoinAsync(
        Guid campaignId, ClaimsPrincipal user, HttpContext context, [AsParameters] WaitingRoomServices services)
    {
        var (campaigns, room, tokens, draws, options, time) = services;
        // A place in line is for someone who may buy: an account that confirmed its e-mail address.
        if (!user.HasVerifiedEmail())
        {
            return Problems.EmailNotVerified();
        }

        if (await campaigns.GetAsync(campaignId, context.RequestAborted) is not { Status: CampaignStatus.Published or CampaignStatus.OnSale } campaign)
        {
            return Problems.NotFound("No such campaign open for sale.");
        }

        if (!campaign.WaitingRoomEnabled)
        {
            return TypedResults.Ok(new WaitingRoomResponse("NotNeeded", null, null, null, 0, null, null, null));
        }

        var reply = await room.JoinAsync(campaignId, user.UserId(), draws.Key(campaignId, user.UserId()), Buckets(context));
        HttpRateLimits.Apply(context.Response, reply.Rate);
        return reply.Visitor is { } visitor
            ? TypedResults.Ok(Describe(campaign, visitor, user.UserId(), tokens, options.Value, time))
            : HttpRateLimits.TooManyRequests(reply.Rate);
    }

    private static async Task<Results<Ok<WaitingRoomResponse>, ProblemHttpResult>> StatusAsync(
        Guid campaignId, ClaimsPrincipal user, HttpContext context, [AsParameters] WaitingRoomServices services)
    {
        var (campaigns, room, tokens, _, options, time) = services;
        if (await campaigns.GetAsync(campaignId, context.RequestAborted) is not { Status: not CampaignStatus.Draft } campaign)
        {
            return Problems.NotFound("No such campaign.");
        }

        var reply = await room.StatusAsync(campaignId, user.UserId(), Buckets(context));
        HttpRateLimits.Apply(context.Response, reply.Rate);
        return reply.Visitor switch
        {
            null => HttpRateLimits.TooManyRequests(reply.Rate),
            { State: VisitorState.Absent } => Problems.NotFound("Not in this waiting room: join it first."),
            var visitor => TypedResults.Ok(Describe(campaign, visitor, user.UserId(), tokens, options.Value, time)),
        };
    }

    private static IReadOnlyList<TokenBucket> Buckets(HttpContext context) =>
        HttpRateLimits.Buckets(context, RateLimitClasses.WaitingRoom, keyPrefix: RateLimitClasses.WaitingRoom + ":");

    /// <summary>
    /// The visitor is done (bought, or gave up): stock pacing stops counting them at once instead of at the end of their
    /// shopping window, so the queue behind moves on to the tickets left; a place still waiting is given up, and an
    /// admission ends (its token holds nothing more).
    /// </summary>
    private static Task<Results<NoContent, ProblemHttpResult>> LeaveAsync(
        Guid campaignId, ClaimsPrincipal user, HttpContext context, CampaignLookup campaigns, WaitingRooms room) =>
        ForCampaignAsync(campaignId, context, campaigns, () => room.LeaveAsync(campaignId, user.UserId()));

    /// <summary>
    /// The visitor's page closed or reloaded (the page sends this as it goes): stock pacing stops counting them at once,
    /// so the queue behind moves on; unlike leaving, their place and admission are kept for when they come back.
    /// </summary>
    private static Task<Results<NoContent, ProblemHttpResult>> AwayAsync(
        Guid campaignId, ClaimsPrincipal user, HttpContext context, CampaignLookup campaigns, WaitingRooms room) =>
        ForCampaignAsync(campaignId, context, campaigns, () => room.AwayAsync(campaignId, user.UserId()));

    private static async Task<Results<NoContent, ProblemHttpResult>> ForCampaignAsync(Guid campaignId, HttpContext context, CampaignLookup campaigns, Func<Task> change)
    {
        if (await campaigns.GetAsync(campaignId, context.RequestAborted) is not { Status: not CampaignStatus.Draft })
        {
            return Problems.NotFound("No such campaign.");
        }

        await change();
        return TypedResults.NoContent();
    }

    /// <summary>
    /// What a visitor sees: the state, the position and an estimated wait, and when to ask again: when their turn is
    /// expected (at most 30 s away, so the position shown stays fresh), so that each visitor asks about twice and
    /// 50,000 waiting browsers do not hammer the API (told to come back at a fifth of their wait, the head of a
    /// 50,000-visitor queue admitted at 2,000/s would ask about 23,000 times a second). While stock pacing holds the queue,
    /// the wait is unknown and nobody moves: every PausedPollSeconds, but the head of the queue (the next second's
    /// admissions) every HeadPausedPollSeconds, so that when tickets come back the next in line come in to buy them.
    /// Before the opening, see <see cref="PreQueuePollAfter"/>.
    /// </summary>
    private static WaitingRoomResponse Describe(CampaignOpening campaign, VisitorStatus status, Guid visitor, AdmissionTokens tokens,
        WaitingRoomOptions options, TimeProvider time)
    {
        var now = time.GetUtcNow();
        return status.State switch
        {
            VisitorState.PreQueue => DescribePreQueue(Math.Max(0, (campaign.SaleOpensAt - now).TotalSeconds), status, options),
            VisitorState.Waiting when status.PausedByStock => new("Waiting", status.Place, status.Position, null,
                status.Position <= Math.Max(status.RatePerSecond, MinimumHead) ? HeadPausedPollSeconds : PausedPollSeconds, null, null, null),
            VisitorState.Waiting => new("Waiting", status.Place, status.Position,
                status.RatePerSecond > 0 ? (int)Math.Ceiling(status.Position!.Value / status.RatePerSecond) : null,
                PollAfter(status.RatePerSecond > 0 ? status.Position!.Value / status.RatePerSecond : 30), null, null, null),
            VisitorState.Admitted => new("Admitted", status.Place, 0, 0, 0,
                tokens.Issue(campaign.Id, visitor, status.AdmittedUntil!.Value), status.AdmittedUntil, null),
            VisitorState.SoldOut => new("SoldOut", null, null, null, 0, null, null, null),
            _ => new("Expired", null, null, null, 0, null, null, null),
        };
    }

    private const int PausedPollSeconds = 30;
    private const int HeadPausedPollSeconds = 5;
    private const int MinimumHead = 10;

    private static int PollAfter(double seconds) => (int)Math.Clamp(Math.Ceiling(seconds), 1, 30);

    /// <summary>
    /// A pre-queue visitor sees when the sale opens, and nothing of where the draw put them: shown their rank before
    /// the opening, someone with many accounts could keep the best-drawn ones and drop the rest. So neither the
    /// position, nor a wait, nor a time to come back derived from them is given before the opening.
    /// </summary>
    private static WaitingRoomResponse DescribePreQueue(double untilOpening, VisitorStatus status, WaitingRoomOptions options) =>
        new("PreQueue", null, null, null, PreQueuePollAfter(untilOpening, status.PreQueueSize, options, Random.Shared.NextDouble()),
            null, null, (int)Math.Ceiling(untilOpening));

    /// <summary>
    /// Until the last half-minute before the opening, a pre-queue visitor asks at half the time left (at most 30 s
    /// apart). Then they are told to come back at a moment <paramref name="draw"/> (0-1, random, unrelated to their
    /// place) into the opening's first seconds, spread so that the pre-queue comes back at
    /// <see cref="WaitingRoomOptions.OpeningPollsPerSecond"/>, within <see cref="WaitingRoomOptions.PreQueueComebackSeconds"/>:
    /// not all in the opening's first second. Back after the opening, a visitor learns their place, their wait and
    /// when their turn is due.
    /// </summary>
    internal static int PreQueuePollAfter(double untilOpening, long preQueueSize, WaitingRoomOptions options, double draw)
    {
        if (untilOpening > 30)
        {
            return PollAfter(untilOpening / 2);
        }

        var spread = Math.Min(options.PreQueueComebackSeconds, Math.Max(0, preQueueSize) / (double)options.OpeningPollsPerSecond);
        return (int)Math.Max(1, Math.Ceiling(untilOpening + (Math.Clamp(draw, 0, 1) * spread)));
    }
}

public sealed record WaitingRoomResponse(
    string State,
    long? Place,
    long? Position,
    int? EstimatedWaitSeconds,
    int PollAfterSeconds,
    string? AdmissionToken,
    DateTimeOffset? AdmittedUntil,
    int? OpensInSeconds);

/// <summary>What the waiting room's handlers work with, taken as one parameter.</summary>
public sealed record WaitingRoomServices(CampaignLookup Campaigns, WaitingRooms Rooms, AdmissionTokens Tokens, PreQueueDraws Draws,
    IOptions<WaitingRoomOptions> Options, TimeProvider Time);
