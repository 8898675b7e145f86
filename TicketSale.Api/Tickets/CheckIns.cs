using Microsoft.EntityFrameworkCore;
using TicketSale.Api.Sales;
using TicketSale.Core.Data;
using TicketSale.Core.Tickets;

namespace TicketSale.Api.Tickets;

public enum CheckInOutcome
{
    Admitted,
    AlreadyCheckedIn,
    Cancelled,
    NotFound,
    InvalidCode,
    OtherCampaign,
}

/// <param name="CheckedInAt">When the ticket was admitted: now for <see cref="CheckInOutcome.Admitted"/>, the first scan's time for <see cref="CheckInOutcome.AlreadyCheckedIn"/>.</param>
public sealed record CheckInResult(CheckInOutcome Outcome, Guid? TicketId = null, Guid? CampaignId = null, string? Place = null,
    DateTimeOffset? CheckedInAt = null, string? Gate = null);

/// <summary>
/// Door check-in: a code's signature is checked, then the ticket is admitted by one conditional UPDATE (active and not
/// yet checked in). Two gates scanning the same ticket at once both reach that row; PostgreSQL makes the second wait
/// for the first's row lock and then re-reads the condition, which no longer holds: each ticket is admitted once.
/// </summary>
public sealed class CheckIns(TicketSaleDbContext db, TicketCodes codes, CampaignCatalog catalog, TimeProvider time)
{
    /// <summary>A scan at a gate; <paramref name="scannedAt"/> is given when a scanner uploads what it admitted offline.</summary>
    public async Task<CheckInResult> ScanAsync(string code, string gate, Guid? campaignId, DateTimeOffset? scannedAt, CancellationToken cancellationToken)
    {
        if (!codes.TryRead(code.Trim(), out var claim))
        {
            return new CheckInResult(CheckInOutcome.InvalidCode);
        }

        if (campaignId is { } expected && expected != claim.CampaignId)
        {
            return new CheckInResult(CheckInOutcome.OtherCampaign, claim.TicketId, claim.CampaignId);
        }

        var at = scannedAt ?? time.GetUtcNow();
        var tickets = db.Tickets.Where(t => t.Id == claim.TicketId && t.CampaignId == claim.CampaignId);
        // Admitted and told (the organizers' webhooks) in one statement: both or neither.
        var admitted = await db.Database.ExecuteSqlAsync(
            $"""
            WITH admitted AS (
                UPDATE "Tickets" SET "CheckedInAt" = {at}, "CheckedInGate" = {gate}
                WHERE "Id" = {claim.TicketId} AND "CampaignId" = {claim.CampaignId} AND "Active" AND "CheckedInAt" IS NULL
                RETURNING "Id", "OrderId", "CampaignId")
            INSERT INTO "OutboxMessages" ("Type", "CampaignId", "OrderId", "TicketId", "OccurredAt", "MailPending", "MailAttempts", "WebhooksPending")
            SELECT {OrderEvents.CheckedIn}, "CampaignId", "OrderId", "Id", {at}, FALSE, 0, TRUE FROM admitted
            """, cancellationToken);
        var ticket = await tickets.AsNoTracking().Select(t => new { t.Active, t.CheckedInAt, t.CheckedInGate, t.SeatIndex, t.GeneralAdmissionCategoryId })
            .FirstOrDefaultAsync(cancellationToken);
        if (ticket is null)
        {
            return new CheckInResult(CheckInOutcome.NotFound, claim.TicketId, claim.CampaignId);
        }

        var place = Place(await catalog.GetAsync(claim.CampaignId, cancellationToken), ticket.SeatIndex, ticket.GeneralAdmissionCategoryId);
        var outcome = admitted == 1 ? CheckInOutcome.Admitted
            : ticket.CheckedInAt is not null ? CheckInOutcome.AlreadyCheckedIn
            : CheckInOutcome.Cancelled;
        return new CheckInResult(outcome, claim.TicketId, claim.CampaignId, place, ticket.CheckedInAt, ticket.CheckedInGate);
    }

    /// <summary>What the ticket is for, as door staff read it: "Main, row 1, seat 5" or the standing category's name.</summary>
    public static string Place(CampaignDetails? campaign, int? seatIndex, Guid? generalAdmissionCategoryId)
    {
        if (seatIndex is { } seat)
        {
            return campaign?.Venue?.Sections.FirstOrDefault(s => seat >= s.FirstSeatIndex && seat < s.FirstSeatIndex + (s.Rows * s.SeatsPerRow)) is { } section
                ? $"{section.Name}, row {((seat - section.FirstSeatIndex) / section.SeatsPerRow) + 1}, seat {((seat - section.FirstSeatIndex) % section.SeatsPerRow) + 1}"
                : $"Seat {seat + 1}";
        }

        return campaign?.GeneralAdmission.FirstOrDefault(g => g.Id == generalAdmissionCategoryId)?.Name ?? "General admission";
    }
}
