using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TicketSale.Core.Data;

namespace TicketSale.Api.Sales;

/// <summary>Creates campaigns and edits them until their sale opens, each edit against the version it was based on.</summary>
public sealed class CampaignEditor(TicketSaleDbContext db, TimeProvider time, CampaignCatalog catalog, IOptions<SalesOptions> options)
{
    public async Task<Outcome<CampaignDetails>> CreateAsync(CampaignRequest request)
    {
        var campaign = new Campaign { Id = Guid.CreateVersion7(), Name = "", Status = CampaignStatus.Draft, CreatedAt = time.GetUtcNow() };
        if (await ApplyAsync(campaign, request) is { } invalid)
        {
            return invalid;
        }

        db.Campaigns.Add(campaign);
        await db.SaveChangesAsync();
        await catalog.InvalidateAsync(campaign.Id);
        return (await catalog.GetAsync(campaign.Id))!;
    }

    public async Task<Outcome<CampaignDetails>> UpdateAsync(Guid id, CampaignRequest request)
    {
        var campaign = await db.Campaigns.Include(c => c.Prices).Include(c => c.GeneralAdmission).FirstOrDefaultAsync(c => c.Id == id);
        if (campaign is null)
        {
            return Refusal.NotFound("No such campaign.");
        }

        if (request.Version is not { } version || version != campaign.Version)
        {
            return new Refusal(RefusalReason.StaleVersion, $"The campaign changed meanwhile (now version {campaign.Version}); reload it and apply your change again.");
        }

        if (campaign.Status is not (CampaignStatus.Draft or CampaignStatus.Published))
        {
            return new Refusal(RefusalReason.NotEditable, "A campaign can be edited only before its sale opens.");
        }

        if (await ApplyAsync(campaign, request) is { } invalid)
        {
            return invalid;
        }

        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateConcurrencyException)
        {
            return new Refusal(RefusalReason.StaleVersion, "The campaign changed meanwhile; reload it and apply your change again.");
        }

        await catalog.InvalidateAsync(id);
        return (await catalog.GetAsync(id))!;
    }

    private async Task<Refusal?> ApplyAsync(Campaign campaign, CampaignRequest request)
    {
        if (request.SaleClosesAt <= request.SaleOpensAt)
        {
            return Refusal.Invalid("saleClosesAt", "The sale must close after it opens.");
        }

        if (request.VenueId is null && request.GeneralAdmission.Count == 0)
        {
            return Refusal.Invalid("venueId", "A campaign sells reserved seats of a venue, general admission, or both.");
        }

        var categories = new List<string>();
        if (request.VenueId is { } venueId)
        {
            var venue = await db.Venues.AsNoTracking().Include(v => v.Sections).FirstOrDefaultAsync(v => v.Id == venueId);
            if (venue is null)
            {
                return Refusal.Invalid("venueId", "No such venue.");
            }

            categories = venue.Sections.Select(s => s.PriceCategory).Distinct().ToList();
        }

        var unpriced = categories.Except(request.Prices.Select(p => p.Category)).ToList();
        if (unpriced.Count > 0)
        {
            return Refusal.Invalid("prices", $"Every price category of the venue needs a price; missing: {string.Join(", ", unpriced)}.");
        }

        if (request.Prices.Select(p => p.Category).Distinct().Count() != request.Prices.Count
            || request.GeneralAdmission.Select(g => g.Name).Distinct().Count() != request.GeneralAdmission.Count)
        {
            return Refusal.Invalid("prices", "Price categories and general-admission names must be unique.");
        }

        campaign.Name = request.Name.Trim();
        campaign.VenueId = request.VenueId;
        campaign.EventAt = request.EventAt;
        campaign.SaleOpensAt = request.SaleOpensAt;
        campaign.SaleClosesAt = request.SaleClosesAt;
        campaign.PerUserLimit = request.PerUserLimit;
        campaign.HoldSeconds = request.HoldSeconds ?? (int)options.Value.HoldDuration.TotalSeconds;
        campaign.CancellationAllowed = request.CancellationAllowed;
        campaign.WaitingRoomEnabled = request.WaitingRoomEnabled;
        campaign.AdmissionsPerSecond = request.AdmissionsPerSecond;
        campaign.PaceAdmissionsByStock = request.PaceAdmissionsByStock;
        campaign.Version++;
        campaign.Prices.Clear();
        campaign.Prices.AddRange(request.Prices.Select(p => new CampaignPrice { CampaignId = campaign.Id, Category = p.Category, PriceCents = p.PriceCents }));
        campaign.GeneralAdmission.Clear();
        campaign.GeneralAdmission.AddRange(request.GeneralAdmission.Select(g => new GeneralAdmissionCategory
        {
            Id = Guid.CreateVersion7(),
            CampaignId = campaign.Id,
            Name = g.Name.Trim(),
            Capacity = g.Capacity,
            PriceCents = g.PriceCents,
        }));
        return null;
    }
}

public sealed record CampaignRequest(
    [property: Required, MinLength(1), MaxLength(200)] string Name,
    Guid? VenueId,
    DateTimeOffset EventAt,
    DateTimeOffset SaleOpensAt,
    DateTimeOffset SaleClosesAt,
    [property: Range(1, 50)] int PerUserLimit,
    bool CancellationAllowed,
    [property: Required, MaxLength(20)] IReadOnlyList<PriceSpec> Prices,
    [property: Required, MaxLength(20)] IReadOnlyList<GeneralAdmissionSpec> GeneralAdmission,
    // Long enough to pay, short enough that hoarding seats in holds is no way to keep them from the sale.
    [property: Range(2, 1200)] int? HoldSeconds = null,
    bool WaitingRoomEnabled = false,
    [property: Range(0.1, 100_000)] double AdmissionsPerSecond = 50,
    bool PaceAdmissionsByStock = true,
    int? Version = null);

public sealed record PriceSpec([property: Required, MinLength(1), MaxLength(50)] string Category, [property: Range(0, 100_000_000)] long PriceCents);

public sealed record GeneralAdmissionSpec(
    [property: Required, MinLength(1), MaxLength(50)] string Name,
    [property: Range(1, 1_000_000)] int Capacity,
    [property: Range(0, 100_000_000)] long PriceCents);
