using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using TicketSale.Api.Tickets;
using TicketSale.Core.Tickets;

namespace TicketSale.Api.Apis;

/// <summary>
/// The door: staff (or an admin) scan or type a ticket's code; a scanner that lost its connection checks signatures
/// with the public keys on its own and uploads its scans later.
/// </summary>
public static class CheckInApi
{
    /// <summary>How far ahead of the server's clock an uploaded scan's time may be (a scanner's clock drifts).</summary>
    private static readonly TimeSpan s_clockSkew = TimeSpan.FromMinutes(5);

    /// <summary>How old an uploaded scan may be: a gate uploads the day it scans; a missing time reads as the year 1.</summary>
    private static readonly TimeSpan s_oldestScan = TimeSpan.FromDays(30);

    public static IEndpointRouteBuilder MapCheckInApi(this IEndpointRouteBuilder app)
    {
        // Public keys are public: a scanner fetches them before the doors open and keeps them.
        app.MapGet("/api/tickets/keys", (TicketCodes codes) => TypedResults.Ok(new TicketKeysResponse(
            [.. codes.PublicKeys.Select(k => new TicketKeyResponse(k.Id, k.PublicKey))]))).WithTags("Check-in");

        var door = app.MapGroup("/api/checkin").WithTags("Check-in").RequireAuthorization(TokenValidation.StaffPolicy);
        door.MapPost("/", ScanAsync);
        door.MapPost("/scans", UploadAsync);
        return app;
    }

    private static async Task<Results<Ok<CheckInResponse>, ProblemHttpResult, ValidationProblem>> ScanAsync(
        CheckInRequest request, CheckIns checkIns, SecurityEvents events, HttpContext context, CancellationToken cancellationToken)
    {
        var result = await checkIns.ScanAsync(request.Code, request.Gate, request.CampaignId, null, cancellationToken);
        events.CheckIn(context.User.UserId(), result.TicketId, request.Gate, result.Outcome.ToString(), HttpRateLimits.ClientAddress(context));
        var extensions = new Dictionary<string, object?> { ["ticketId"] = result.TicketId, ["place"] = result.Place, ["checkedInAt"] = result.CheckedInAt, ["gate"] = result.Gate };
        return result.Outcome switch
        {
            CheckInOutcome.Admitted => TypedResults.Ok(CheckInResponse.From(request.Code, result)),
            CheckInOutcome.AlreadyCheckedIn => Problems.Conflict(
                $"Already checked in at {result.CheckedInAt!.Value.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)} at gate {result.Gate}.", "already-checked-in", extensions),
            CheckInOutcome.Cancelled => Problems.Conflict("This ticket was cancelled: it does not admit anyone.", "ticket-cancelled", extensions),
            CheckInOutcome.OtherCampaign => Problems.Conflict("This ticket is for another event.", "other-campaign", extensions),
            CheckInOutcome.NotFound => Problems.NotFound("No such ticket."),
            CheckInOutcome.InvalidCode => Problems.Invalid("code", "This is not a TicketSale ticket code, or it was altered."),
            _ => throw new InvalidOperationException($"No answer for {result.Outcome}."),
        };
    }

    /// <summary>Scans a scanner admitted while offline, in the order it made them; each is decided as if scanned now, at its own time.</summary>
    private static async Task<Results<Ok<ScansResponse>, ValidationProblem>> UploadAsync(
        ScansRequest request, CheckIns checkIns, TimeProvider time, SecurityEvents events, HttpContext context, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (earliest, latest) = (now - s_oldestScan, now + s_clockSkew);
        if (request.Scans.Select((s, i) => (s, i)).FirstOrDefault(x => x.s.ScannedAt > latest || x.s.ScannedAt < earliest) is { s: not null } wrong)
        {
            return Problems.Invalid($"scans[{wrong.i}].scannedAt", wrong.s.ScannedAt > latest
                ? "A scan cannot be later than now."
                : "A scan's time is when it was made, within the last 30 days (ISO 8601 with its offset).");
        }

        var results = new List<CheckInResponse>(request.Scans.Count);
        foreach (var scan in request.Scans)
        {
            var result = await checkIns.ScanAsync(scan.Code, scan.Gate, scan.CampaignId, scan.ScannedAt, cancellationToken);
            events.CheckIn(context.User.UserId(), result.TicketId, scan.Gate, $"{result.Outcome} (scanned offline at {scan.ScannedAt.ToString("u", CultureInfo.InvariantCulture)})",
                HttpRateLimits.ClientAddress(context));
            results.Add(CheckInResponse.From(scan.Code, result));
        }

        return TypedResults.Ok(new ScansResponse(results));
    }
}

public sealed record CheckInRequest(
    [property: Required, MaxLength(200)] string Code,
    [property: Required, MinLength(1), MaxLength(64)] string Gate,
    Guid? CampaignId);

public sealed record OfflineScan(
    [property: Required, MaxLength(200)] string Code,
    [property: Required, MinLength(1), MaxLength(64)] string Gate,
    Guid? CampaignId,
    DateTimeOffset ScannedAt);

public sealed record ScansRequest([property: Required, MaxLength(500)] IReadOnlyList<OfflineScan> Scans);

/// <param name="Outcome">Admitted, AlreadyCheckedIn (with the first scan's time and gate), Cancelled, NotFound, InvalidCode or OtherCampaign.</param>
public sealed record CheckInResponse(string Code, CheckInOutcome Outcome, Guid? TicketId, string? Place, DateTimeOffset? CheckedInAt, string? Gate)
{
    public static CheckInResponse From(string code, CheckInResult result) =>
        new(code, result.Outcome, result.TicketId, result.Place, result.CheckedInAt, result.Gate);
}

public sealed record ScansResponse(IReadOnlyList<CheckInResponse> Results);

public sealed record TicketKeysResponse(IReadOnlyList<TicketKeyResponse> Keys);

public sealed record TicketKeyResponse(string Id, string PublicKey);
