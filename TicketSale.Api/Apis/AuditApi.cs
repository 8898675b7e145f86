using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TicketSale.Core.Data;

namespace TicketSale.Api.Apis;

/// <summary>The audit log for admins: newest first, by action and by account, a page at a time.</summary>
public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/admin/audit").WithTags("Admin").RequireAuthorization(TokenValidation.AdminPolicy).FromAllowedNetworks()
            .MapGet("/", QueryAsync);
        return app;
    }

    /// <param name="before">The <c>before</c> of the previous page: entries older than it.</param>
    private static async Task<Results<Ok<AuditPage>, ValidationProblem>> QueryAsync(TicketSaleDbContext db, CancellationToken cancellationToken,
        string? action = null, string? account = null, long? before = null, int limit = 50)
    {
        if (action is not null && !AuditActions.All.Contains(action))
        {
            return Problems.Invalid("action", $"One of: {string.Join(", ", AuditActions.All)}.");
        }

        if (limit is < 1 or > 500)
        {
            return Problems.Invalid("limit", "Between 1 and 500.");
        }

        var entries = db.AuditEntries.AsNoTracking();
        if (action is not null)
        {
            entries = entries.Where(e => e.Action == action);
        }

        if (!string.IsNullOrWhiteSpace(account))
        {
            var normalized = account.Trim().ToLowerInvariant();
            entries = entries.Where(e => e.Account == normalized);
        }

        if (before is { } older)
        {
            entries = entries.Where(e => e.Id < older);
        }

        var page = await entries.OrderByDescending(e => e.Id).Take(limit)
            .Select(e => new AuditEntryResponse(e.Id, e.At, e.Action, e.ActorId, e.Account, e.SubjectId, e.Address, e.Detail))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new AuditPage(page, page.Count == limit ? page[^1].Id : null));
    }
}

public sealed record AuditEntryResponse(long Id, DateTimeOffset At, string Action, Guid? ActorId, string? Account, Guid? SubjectId, string? Address, string Detail);

/// <param name="Before">Pass as <c>before</c> for the next (older) page; null on the last one.</param>
public sealed record AuditPage(IReadOnlyList<AuditEntryResponse> Entries, long? Before);
