using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using TicketSale.Api.Sales;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;

namespace TicketSale.Api.Apis;

public static class AdminApi
{
    public const int MaxSeatsPerVenue = 200_000;

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(TokenValidation.AdminPolicy).FromAllowedNetworks().Audited();
        admin.MapPost("/venues", CreateVenueAsync);
        admin.MapGet("/venues/{id:guid}", GetVenueAsync);
        admin.MapGet("/campaigns", async (TicketSaleDbContext db) => TypedResults.Ok(await db.Campaigns.AsNoTracking()
            .OrderByDescending(c => c.CreatedAt)
            .Select(c => new CampaignSummary(c.Id, c.Name, c.Status.ToString(), c.EventAt, c.SaleOpensAt, c.SaleClosesAt, c.Version))
            .ToListAsync()));
        admin.MapPost("/campaigns", CreateCampaignAsync);
        admin.MapPut("/campaigns/{id:guid}", UpdateCampaignAsync);
        admin.MapPost("/campaigns/{id:guid}/publish", (Guid id, CampaignLifecycle lifecycle) => lifecycle.MoveAsync(id, CampaignStatus.Draft, CampaignStatus.Published));
        admin.MapPost("/campaigns/{id:guid}/open", (Guid id, CampaignLifecycle lifecycle) => lifecycle.MoveAsync(id, CampaignStatus.Published, CampaignStatus.OnSale));
        admin.MapPost("/campaigns/{id:guid}/close", (Guid id, CampaignLifecycle lifecycle) => lifecycle.MoveAsync(id, CampaignStatus.OnSale, CampaignStatus.Closed));
        admin.MapGet("/campaigns/{id:guid}/sales", GetSalesAsync);
        admin.MapPut("/campaigns/{id:guid}/waiting-room", (Guid id, WaitingRoomRequest request, CampaignLifecycle lifecycle) => lifecycle.ConfigureWaitingRoomAsync(id, request));
        admin.MapPost("/campaigns/{id:guid}/reconcile", ReconcileAsync);
        return app;
    }

    /// <summary>
    /// Creates the venue and all its seats. Seats go in with PostgreSQL's binary COPY: a 50,000-seat venue is one
    /// round trip of about a megabyte instead of 50,000 inserts.
    /// </summary>
    private static async Task<Results<Created<VenueResponse>, ValidationProblem>> CreateVenueAsync(
        CreateVenueRequest request, TicketSaleDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var total = request.Sections.Sum(s => (long)s.Rows * s.SeatsPerRow);
        if (total > MaxSeatsPerVenue)
        {
            return Problems.Invalid("sections", $"A venue has at most {MaxSeatsPerVenue} seats; this one would have {total}.");
        }

        if (request.Sections.Select(s => s.Name.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).Count() != request.Sections.Count)
        {
            return Problems.Invalid("sections", "Section names must be unique.");
        }

        var venue = new Venue { Id = Guid.CreateVersion7(), Name = request.Name.Trim(), CreatedAt = time.GetUtcNow() };
        var next = 0;
        foreach (var s in request.Sections)
        {
            venue.Sections.Add(new VenueSection
            {
                Id = Guid.CreateVersion7(),
                VenueId = venue.Id,
                Name = s.Name.Trim(),
                PriceCategory = s.PriceCategory.Trim(),
                Rows = s.Rows,
                SeatsPerRow = s.SeatsPerRow,
                FirstSeatIndex = next,
            });
            next += s.Rows * s.SeatsPerRow;
        }

        venue.SeatCount = next;

        // The venue and its seats in one transaction, on the context's own connection.
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            db.Venues.Add(venue);
            await db.SaveChangesAsync(cancellationToken);
            await CopySeatsAsync(connection, venue, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });

        return TypedResults.Created($"/api/admin/venues/{venue.Id}", VenueResponse.From(venue));
    }

    private static async Task CopySeatsAsync(NpgsqlConnection connection, Venue venue, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY \"Seats\" (\"VenueId\", \"Index\", \"Section\", \"Row\", \"Number\", \"PriceCategory\") FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var section in venue.Sections)
        {
            for (var row = 1; row <= section.Rows; row++)
            {
                for (var number = 1; number <= section.SeatsPerRow; number++)
                {
                    await copy.StartRowAsync(cancellationToken);
                    await copy.WriteAsync(venue.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(section.FirstSeatIndex + ((row - 1) * section.SeatsPerRow) + (number - 1), NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(section.Name, NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(row, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(number, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(section.PriceCategory, NpgsqlDbType.Text, cancellationToken);
                }
            }
        }

        await copy.CompleteAsync(cancellationToken);
    }

    private static async Task<Results<Ok<VenueResponse>, ProblemHttpResult>> GetVenueAsync(Guid id, TicketSaleDbContext db) =>
        await db.Venues.AsNoTracking().Include(v => v.Sections).FirstOrDefaultAsync(v => v.Id == id) is { } venue
            ? TypedResults.Ok(VenueResponse.From(venue))
            : Problems.NotFound("No such venue.");

    private static async Task<Results<Created<CampaignDetails>, ValidationProblem, ProblemHttpResult>> CreateCampaignAsync(
        CampaignRequest request, TicketSaleDbContext db, TimeProvider time, CampaignCatalog catalog, IOptions<SalesOptions> options)
    {
        var campaign = new Campaign { Id = Guid.CreateVersion7(), Name = "", Status = CampaignStatus.Draft, CreatedAt = time.GetUtcNow() };
        if (await ApplyAsync(campaign, request, db, options.Value) is { } invalid)
        {
            return invalid;
        }

        db.Campaigns.Add(campaign);
        await db.SaveChangesAsync();
        await catalog.InvalidateAsync(campaign.Id);
        return TypedResults.Created($"/api/campaigns/{campaign.Id}", (await catalog.GetAsync(campaign.Id))!);
    }

    private static async Task<Results<Ok<CampaignDetails>, ValidationProblem, ProblemHttpResult>> UpdateCampaignAsync(
        Guid id, CampaignRequest request, TicketSaleDbContext db, CampaignCatalog catalog, IOptions<SalesOptions> options)
    {
        var campaign = await db.Campaigns.Include(c => c.Prices).Include(c => c.GeneralAdmission).FirstOrDefaultAsync(c => c.Id == id);
        if (campaign is null)
        {
            return Problems.NotFound("No such campaign.");
        }

        if (request.Version is not { } version || version != campaign.Version)
        {
            return Problems.Conflict($"The campaign changed meanwhile (now version {campaign.Version}); reload it and apply your change again.", "stale-version");
        }

        if (campaign.Status is not (CampaignStatus.Draft or CampaignStatus.Published))
        {
            return Problems.Conflict("A campaign can be edited only before its sale opens.", "campaign-not-editable");
        }

        if (await ApplyAsync(campaign, request, db, options.Value) is { } invalid)
        {
            return invalid;
        }

        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Conflict("The campaign changed meanwhile; reload it and apply your change again.", "stale-version");
        }

        await catalog.InvalidateAsync(id);
        return TypedResults.Ok((await catalog.GetAsync(id))!);
    }

    private static async Task<ValidationProblem?> ApplyAsync(Campaign campaign, CampaignRequest request, TicketSaleDbContext db, SalesOptions options)
    {
        if (request.SaleClosesAt <= request.SaleOpensAt)
        {
            return Problems.Invalid("saleClosesAt", "The sale must close after it opens.");
        }

        if (request.VenueId is null && request.GeneralAdmission.Count == 0)
        {
            return Problems.Invalid("venueId", "A campaign sells reserved seats of a venue, general admission, or both.");
        }

        var categories = new List<string>();
        if (request.VenueId is { } venueId)
        {
            var venue = await db.Venues.AsNoTracking().Include(v => v.Sections).FirstOrDefaultAsync(v => v.Id == venueId);
            if (venue is null)
            {
                return Problems.Invalid("venueId", "No such venue.");
            }

            categories = venue.Sections.Select(s => s.PriceCategory).Distinct().ToList();
        }

        var unpriced = categories.Except(request.Prices.Select(p => p.Category)).ToList();
        if (unpriced.Count > 0)
        {
            return Problems.Invalid("prices", $"Every price category of the venue needs a price; missing: {string.Join(", ", unpriced)}.");
        }

        if (request.Prices.Select(p => p.Category).Distinct().Count() != request.Prices.Count
            || request.GeneralAdmission.Select(g => g.Name).Distinct().Count() != request.GeneralAdmission.Count)
        {
            return Problems.Invalid("prices", "Price categories and general-admission names must be unique.");
        }

        campaign.Name = request.Name.Trim();
        campaign.VenueId = request.VenueId;
        campaign.EventAt = request.EventAt;
        campaign.SaleOpensAt = request.SaleOpensAt;
        campaign.SaleClosesAt = request.SaleClosesAt;
        campaign.PerUserLimit = request.PerUserLimit;
        campaign.HoldSeconds = request.HoldSeconds ?? (int)options.HoldDuration.TotalSeconds;
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

    private static async Task<Results<Ok<SalesResponse>, ProblemHttpResult>> GetSalesAsync(Guid id, TicketSaleDbContext db)
    {
        var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Venue).Include(c => c.GeneralAdmission).FirstOrDefaultAsync(c => c.Id == id);
        if (campaign is null)
        {
            return Problems.NotFound("No such campaign.");
        }

        var orders = db.Orders.Where(o => o.CampaignId == id && o.Status == OrderStatus.Confirmed);
        var purchases = await db.Purchases.Where(p => p.CampaignId == id).GroupBy(p => p.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
        return TypedResults.Ok(new SalesResponse(
            id,
            campaign.Status.ToString(),
            campaign.Venue?.SeatCount ?? 0,
            await db.Tickets.CountAsync(t => t.CampaignId == id && t.Active && t.SeatIndex != null),
            campaign.GeneralAdmission.Select(g => new GeneralAdmissionSales(g.Id, g.Name, g.Capacity, g.Sold)).ToList(),
            await orders.CountAsync(),
            await orders.SumAsync(o => (long?)o.TotalCents) ?? 0,
            purchases.FirstOrDefault(p => p.Key == PurchaseStatus.Confirmed)?.Count ?? 0,
            purchases.FirstOrDefault(p => p.Key == PurchaseStatus.Failed)?.Count ?? 0));
    }

    private static async Task<Results<Ok<RebuildSummary>, ProblemHttpResult>> ReconcileAsync(Guid id, InventoryLoader loader) =>
        await loader.RebuildAsync(id) is { } summary ? TypedResults.Ok(summary) : Problems.NotFound("No such campaign.");
}

/// <summary>Moves campaigns through draft → published → on sale → closed, and keeps their waiting room in step.</summary>
public sealed class CampaignLifecycle(TicketSaleDbContext db, CampaignCatalog catalog, InventoryLoader loader, SeatInventory inventory,
    Core.WaitingRoom.WaitingRoom room, IOptions<Core.WaitingRoom.WaitingRoomOptions> roomOptions)
{
    /// <summary>Switches the waiting room on or off, or changes its rate — also in the middle of a sale.</summary>
    public async Task<Results<Ok<CampaignDetails>, ProblemHttpResult>> ConfigureWaitingRoomAsync(Guid id, WaitingRoomRequest request)
    {
        var campaign = await db.Campaigns.FirstOrDefaultAsync(c => c.Id == id);
        if (campaign is null)
        {
            return Problems.NotFound("No such campaign.");
        }

        campaign.WaitingRoomEnabled = request.Enabled;
        campaign.AdmissionsPerSecond = request.AdmissionsPerSecond;
        campaign.PaceAdmissionsByStock = request.PaceAdmissionsByStock;
        campaign.Version++;
        await db.SaveChangesAsync();
        await catalog.InvalidateAsync(id);
        var details = (await catalog.GetAsync(id))!;
        await SyncWaitingRoomAsync(details);
        return TypedResults.Ok(details);
    }

    private async Task SyncWaitingRoomAsync(CampaignDetails campaign)
    {
        if (!campaign.WaitingRoomEnabled || campaign.Status is not ("Published" or "OnSale"))
        {
            await room.DeactivateAsync(campaign.Id);
            return;
        }

        await room.ConfigureAsync(campaign.Id, new Core.WaitingRoom.WaitingRoomSettings(
            campaign.Status == "OnSale", campaign.AdmissionsPerSecond, campaign.PaceAdmissionsByStock, roomOptions.Value.VisitorsPerTicket,
            roomOptions.Value.AdmissionLifetime, roomOptions.Value.ShoppingWindow, campaign.SeatCount, campaign.GeneralAdmission.Select(g => g.Id).ToList(), campaign.SaleOpensAt));
    }

    public async Task<Results<Ok<CampaignDetails>, ProblemHttpResult>> MoveAsync(Guid id, CampaignStatus from, CampaignStatus to)
    {
        var campaign = await db.Campaigns.FirstOrDefaultAsync(c => c.Id == id);
        if (campaign is null)
        {
            return Problems.NotFound("No such campaign.");
        }

        if (campaign.Status != from)
        {
            return Problems.Conflict($"The campaign is {campaign.Status}; only a {from} campaign can become {to}.", "invalid-transition");
        }

        campaign.Status = to;
        campaign.Version++;
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Conflict("The campaign changed meanwhile; try again.", "stale-version");
        }

        if (to == CampaignStatus.OnSale)
        {
            await loader.RebuildAsync(id);
        }
        else if (to == CampaignStatus.Closed)
        {
            await inventory.DeactivateAsync(id);
        }

        await catalog.InvalidateAsync(id);
        var details = (await catalog.GetAsync(id))!;
        await SyncWaitingRoomAsync(details);
        return TypedResults.Ok(details);
    }
}

public sealed record CreateVenueRequest(
    [property: Required, MinLength(1), MaxLength(200)] string Name,
    [property: Required, MinLength(1), MaxLength(100)] IReadOnlyList<SectionSpec> Sections);

public sealed record SectionSpec(
    [property: Required, MinLength(1), MaxLength(50)] string Name,
    [property: Required, MinLength(1), MaxLength(50)] string PriceCategory,
    [property: Range(1, 1000)] int Rows,
    [property: Range(1, 1000)] int SeatsPerRow);

public sealed record VenueResponse(Guid Id, string Name, int SeatCount, IReadOnlyList<SectionView> Sections)
{
    public static VenueResponse From(Venue v) => new(v.Id, v.Name, v.SeatCount,
        v.Sections.OrderBy(s => s.FirstSeatIndex).Select(s => new SectionView(s.Name, s.PriceCategory, s.Rows, s.SeatsPerRow, s.FirstSeatIndex)).ToList());
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

public sealed record WaitingRoomRequest(bool Enabled, [property: Range(0.1, 100_000)] double AdmissionsPerSecond, bool PaceAdmissionsByStock);

public sealed record PriceSpec([property: Required, MinLength(1), MaxLength(50)] string Category, [property: Range(0, 100_000_000)] long PriceCents);

public sealed record GeneralAdmissionSpec(
    [property: Required, MinLength(1), MaxLength(50)] string Name,
    [property: Range(1, 1_000_000)] int Capacity,
    [property: Range(0, 100_000_000)] long PriceCents);

public sealed record SalesResponse(Guid CampaignId, string Status, int SeatCount, int SeatsSold, IReadOnlyList<GeneralAdmissionSales> GeneralAdmission,
    int Orders, long RevenueCents, int PurchasesConfirmed, int PurchasesFailed);

public sealed record GeneralAdmissionSales(Guid Id, string Name, int Capacity, int Sold);
