using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using StackExchange.Redis;
using TicketSale.Api.RateLimiting;
using TicketSale.Api.Sales;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;

namespace TicketSale.Api.Apis;

public static class CampaignsApi
{
    public static IEndpointRouteBuilder MapCampaignsApi(this IEndpointRouteBuilder app)
    {
        var campaigns = app.MapGroup("/api/campaigns").WithTags("Campaigns")
            .WithRateLimitClass(RateLimitClasses.Reads);
        campaigns.MapGet("/", ListAsync);
        campaigns.MapGet("/{id:guid}", GetAsync);
        campaigns.MapGet("/{id:guid}/seats", GetSeatsAsync);
        EventStreamLimits.Apply(campaigns.MapGet("/{id:guid}/seats/events", StreamSeatChangesAsync));

        // For the gateway, which answers the waiting room itself and has no database: whatever the campaign's status,
        // and outside the clients' rate limits. The gateway routes /api only, and /internal needs the management key
        // (ServiceDefaults' OperatorAccess).
        app.MapGet("/internal/campaigns/{id:guid}", async Task<Results<Ok<CampaignDetails>, ProblemHttpResult>> (Guid id, CampaignCatalog catalog, HttpContext context) =>
            await catalog.GetAsync(id, context.RequestAborted) is { } campaign ? TypedResults.Ok(campaign) : Problems.NotFound("No such campaign."))
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>The public list, with the tickets left of each campaign on sale: one request instead of a seat map per campaign.</summary>
    private static async Task<IResult> ListAsync(CampaignCatalog catalog, SeatInventory inventory, HttpContext context)
    {
        var list = await WithTicketsLeftAsync(await catalog.ListAsync(context.RequestAborted), catalog, inventory, context.RequestAborted);
        // A hash that every replica computes alike (string.GetHashCode is randomised per process).
        var etag = $"\"{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('.', list.Select(c => $"{c.Id:N}{c.Version}-{c.TicketsLeft}")))))[..16]}\"";
        return NotModifiedOr(context, etag, () => TypedResults.Ok(list));
    }

    private static async Task<IResult> GetAsync(Guid id, CampaignCatalog catalog, HttpContext context)
    {
        if (await catalog.GetAsync(id, context.RequestAborted) is not { Status: not CampaignStatus.Draft } campaign)
        {
            return Problems.NotFound("No such campaign.");
        }

        return NotModifiedOr(context, $"\"v{campaign.Version}\"", () => TypedResults.Ok(campaign));
    }

    /// <summary>
    /// Availability as one bit per seat (base64, bit set = unavailable, most significant bit first) plus the
    /// general-admission tickets left: about 6 KB for 50,000 seats, answered from Redis. The ETag is the inventory
    /// version, so polling clients mostly get 304.
    /// </summary>
    private static async Task<IResult> GetSeatsAsync(Guid id, CampaignCatalog catalog, SeatInventory inventory, IServiceProvider services, HttpContext context)
    {
        if (await catalog.GetAsync(id, context.RequestAborted) is not { Status: CampaignStatus.OnSale or CampaignStatus.Closed } campaign)
        {
            return Problems.NotFound("No such campaign on sale.");
        }

        var categories = campaign.GeneralAdmission.Select(g => g.Id).ToList();
        var availability = await inventory.GetAvailabilityAsync(id, campaign.SeatCount, categories);
        if (!availability.Loaded)
        {
            // Redis lost it (restart without its data, flush): rebuild from PostgreSQL before answering.
            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<InventoryLoader>().EnsureLoadedAsync(id, context.RequestAborted);
            availability = await inventory.GetAvailabilityAsync(id, campaign.SeatCount, categories);
        }

        return NotModifiedOr(context, $"\"{availability.Version}\"", () => TypedResults.Ok(new SeatsResponse(
            id, availability.Version, campaign.SeatCount, Convert.ToBase64String(availability.TakenBitmap),
            campaign.GeneralAdmission.Select(g => new GeneralAdmissionLeft(g.Id, g.Name, availability.GeneralAdmissionLeft.GetValueOrDefault(g.Id))).ToList())));
    }

    /// <summary>
    /// Server-sent events: first "&lt;version&gt; current", the version the client should have (fetch the seat map if
    /// yours is older), then one per change: "&lt;version&gt; held|sold|free &lt;seats&gt;" or
    /// "&lt;version&gt; ga &lt;category&gt; &lt;left&gt;".
    /// </summary>
    private static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> StreamSeatChangesAsync(
        Guid id, CampaignCatalog catalog, SeatInventory inventory, IConnectionMultiplexer redis, EventStreamLimits limits, HttpContext context)
    {
        if (await catalog.GetAsync(id, context.RequestAborted) is not { Status: CampaignStatus.OnSale or CampaignStatus.Closed } campaign)
        {
            return Problems.NotFound("No such campaign on sale.");
        }

        return TypedResults.ServerSentEvents(
            limits.EndWhenIdle(Subscribe(redis, SeatInventory.ChangesChannel(id),
                async () => $"{await inventory.GetVersionAsync(id)} current", context.RequestAborted), context.RequestAborted),
            eventType: "availability");
    }

    private static async IAsyncEnumerable<string> Subscribe(IConnectionMultiplexer redis, RedisChannel channel, Func<Task<string>> first,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // A reader that falls behind loses the oldest changes (its page sees the gap in versions and fetches the map).
        var messages = Channel.CreateBounded<string>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        // The queue form of a subscription hands messages over in the order Redis sent them; a handler subscription
        // may run two at once and swap them, which a page reads as a missed change.
        var subscription = await redis.GetSubscriber().SubscribeAsync(channel);
        subscription.OnMessage(message => messages.Writer.TryWrite((string)message.Message!));
        try
        {
            // Subscribed first, so no change between this and the first event is missed.
            yield return await first();
            await foreach (var message in messages.Reader.ReadAllAsync(cancellationToken))
            {
                yield return message;
            }
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }
    }

    private static async Task<IReadOnlyList<CampaignListing>> WithTicketsLeftAsync(IReadOnlyList<CampaignListing> list, CampaignCatalog catalog,
        SeatInventory inventory, CancellationToken cancellationToken)
    {
        var onSale = new List<CampaignDetails>();
        foreach (var listing in list.Where(c => c.Status == CampaignStatus.OnSale))
        {
            if (await catalog.GetAsync(listing.Id, cancellationToken) is { } details)
            {
                onSale.Add(details);
            }
        }

        if (onSale.Count == 0)
        {
            return list;
        }

        var left = await inventory.GetTicketsLeftAsync(onSale.ConvertAll(c => (c.Id, c.SeatCount, (IReadOnlyList<Guid>)c.GeneralAdmission.Select(g => g.Id).ToList())));
        var byId = onSale.Select((c, i) => (c.Id, Left: left[i])).ToDictionary(x => x.Id, x => x.Left);
        return list.Select(c => byId.TryGetValue(c.Id, out var n) ? c with { TicketsLeft = n } : c).ToList();
    }

    internal static IResult NotModifiedOr(HttpContext context, string etag, Func<IResult> ok)
    {
        context.Response.Headers.ETag = etag;
        context.Response.Headers.CacheControl = "no-cache";
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        return ifNoneMatch.Count > 0 && EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags) && tags.Any(t => t.Tag == etag || t.Tag == "*")
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : ok();
    }
}

public sealed record SeatsResponse(Guid CampaignId, long Version, int SeatCount, string Taken, IReadOnlyList<GeneralAdmissionLeft> GeneralAdmission);

public sealed record GeneralAdmissionLeft(Guid Id, string Name, int Left);
