using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TicketSale.Api.Sales;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;

namespace TicketSale.Api.Apis;

public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(TokenValidation.AdminPolicy).FromAllowedNetworks().Audited();
        admin.MapPost("/venues", CreateVenueAsync);
        admin.MapGet("/venues", async (VenueImport venues, CancellationToken cancellationToken) =>
            TypedResults.Ok((await venues.ListAsync(cancellationToken)).Select(VenueResponse.From).ToList()));
        admin.MapGet("/venues/{id:guid}", GetVenueAsync);
        admin.MapGet("/campaigns", async (TicketSaleDbContext db) => TypedResults.Ok(await db.Campaigns.AsNoTracking()
            .OrderByDescending(c => c.CreatedAt)
            .Select(c => new CampaignSummary(c.Id, c.Name, c.Status, c.EventAt, c.SaleOpensAt, c.SaleClosesAt, c.Version))
            .ToListAsync()));
        // Drafts included: the console edits them.
        admin.MapGet("/campaigns/{id:guid}", async Task<Results<Ok<CampaignDetails>, ProblemHttpResult>> (Guid id, CampaignCatalog catalog, CancellationToken cancellationToken) =>
            await catalog.GetAsync(id, cancellationToken) is { } campaign ? TypedResults.Ok(campaign) : Problems.NotFound("No such campaign."));
        admin.MapPost("/campaigns", async (CampaignRequest request, CampaignEditor editor) =>
            Answer(await editor.CreateAsync(request), c => TypedResults.Created($"/api/campaigns/{c.Id}", c)));
        admin.MapPut("/campaigns/{id:guid}", async (Guid id, CampaignRequest request, CampaignEditor editor) =>
            Answer(await editor.UpdateAsync(id, request), c => TypedResults.Ok(c)));
        admin.MapPost("/campaigns/{id:guid}/publish", async (Guid id, CampaignLifecycle lifecycle) =>
            Answer(await lifecycle.MoveAsync(id, CampaignStatus.Draft, CampaignStatus.Published), c => TypedResults.Ok(c)));
        admin.MapPost("/campaigns/{id:guid}/open", async (Guid id, CampaignLifecycle lifecycle) =>
            Answer(await lifecycle.MoveAsync(id, CampaignStatus.Published, CampaignStatus.OnSale), c => TypedResults.Ok(c)));
        admin.MapPost("/campaigns/{id:guid}/close", async (Guid id, CampaignLifecycle lifecycle) =>
            Answer(await lifecycle.MoveAsync(id, CampaignStatus.OnSale, CampaignStatus.Closed), c => TypedResults.Ok(c)));
        admin.MapGet("/campaigns/{id:guid}/sales", GetSalesAsync);
        admin.MapGet("/campaigns/{id:guid}/dashboard", async Task<Results<Ok<SalesDashboardResponse>, ProblemHttpResult>> (Guid id, SalesDashboard dashboard, CancellationToken cancellationToken) =>
            await dashboard.GetAsync(id, cancellationToken) is { } figures ? TypedResults.Ok(figures) : Problems.NotFound("No such campaign."));
        admin.MapPut("/campaigns/{id:guid}/waiting-room", async (Guid id, WaitingRoomRequest request, CampaignLifecycle lifecycle) =>
            Answer(await lifecycle.ConfigureWaitingRoomAsync(id, request), c => TypedResults.Ok(c)));
        admin.MapPost("/campaigns/{id:guid}/reconcile", ReconcileAsync);
        admin.MapGet("/campaigns/{id:guid}/promo-codes", async Task<Results<Ok<IReadOnlyList<PromoCodeView>>, ProblemHttpResult>> (Guid id, CampaignCatalog catalog, PromoCodes codes, CancellationToken cancellationToken) =>
            await catalog.GetAsync(id, cancellationToken) is null ? Problems.NotFound("No such campaign.") : TypedResults.Ok(await codes.ListAsync(id, cancellationToken)));
        admin.MapPost("/campaigns/{id:guid}/promo-codes", CreatePromoCodeAsync);
        return app;
    }

    private static async Task<Results<Created<VenueResponse>, ValidationProblem, ProblemHttpResult>> CreateVenueAsync(
        CreateVenueRequest request, VenueImport venues, CancellationToken cancellationToken) =>
        Answer(await venues.CreateAsync(request, cancellationToken), v => TypedResults.Created($"/api/admin/venues/{v.Id}", VenueResponse.From(v)));

    private static async Task<Results<Ok<VenueResponse>, ProblemHttpResult>> GetVenueAsync(Guid id, VenueImport venues, CancellationToken cancellationToken) =>
        await venues.GetAsync(id, cancellationToken) is { } venue ? TypedResults.Ok(VenueResponse.From(venue)) : Problems.NotFound("No such venue.");

    private static async Task<Results<Ok<SalesResponse>, ProblemHttpResult>> GetSalesAsync(Guid id, SalesFigures figures, CancellationToken cancellationToken) =>
        await figures.GetAsync(id, cancellationToken) is { } sales ? TypedResults.Ok(sales) : Problems.NotFound("No such campaign.");

    private static async Task<Results<Created<PromoCodeView>, ValidationProblem, ProblemHttpResult>> CreatePromoCodeAsync(
        Guid id, PromoCodeRequest request, CampaignCatalog catalog, PromoCodes codes, CancellationToken cancellationToken) =>
        await catalog.GetAsync(id, cancellationToken) is { } campaign
            ? Answer(await codes.CreateAsync(campaign, request, cancellationToken), c => TypedResults.Created($"/api/admin/campaigns/{id}/promo-codes", c))
            : Problems.NotFound("No such campaign.");

    private static async Task<Results<Ok<RebuildSummary>, ProblemHttpResult>> ReconcileAsync(Guid id, InventoryLoader loader) =>
        await loader.RebuildAsync(id) is { } summary ? TypedResults.Ok(summary) : Problems.NotFound("No such campaign.");

    /// <summary>What a change produced, as <paramref name="done"/> answers it; a refusal as 404, 400 with the field's error, or 409.</summary>
    private static Results<TDone, ValidationProblem, ProblemHttpResult> Answer<T, TDone>(Outcome<T> outcome, Func<T, TDone> done)
        where T : class
        where TDone : IResult => outcome switch
        {
            { Value: { } value } => done(value),
            { Refusal: { Reason: RefusalReason.Invalid, Field: { } field } refusal } => Problems.Invalid(field, refusal.Detail),
            { Refusal: { } refusal } => refusal.ToProblem(),
            _ => throw new InvalidOperationException($"No answer for {outcome}."),
        };
}
