using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TicketSale.Api.Auth;
using TicketSale.Core.Data;

namespace TicketSale.Api.Apis;

/// <summary>Accounts as an admin sees them: found by e-mail address, disabled (every session ended) and enabled again, made door staff.</summary>
public static class UsersApi
{
    private static readonly DateTimeOffset s_forever = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/admin/users").WithTags("Admin").RequireAuthorization(TokenValidation.AdminPolicy).FromAllowedNetworks().Audited();
        users.MapGet("/", FindAsync);
        users.MapPost("/{id:guid}/disable", DisableAsync);
        users.MapPost("/{id:guid}/enable", EnableAsync);
        users.MapPut("/{id:guid}/role", SetRoleAsync);
        return app;
    }

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> FindAsync(string email, TicketSaleDbContext db)
    {
        var normalized = email.Trim().ToLowerInvariant();
        return await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Email == normalized) is { } user
            ? TypedResults.Ok(Describe(user))
            : Problems.NotFound("No account has this e-mail address.");
    }

    /// <summary>Until <see cref="DisableRequest.Until"/> (for good when absent) the account can neither sign in nor refresh.</summary>
    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult, ValidationProblem>> DisableAsync(
        Guid id, DisableRequest request, TicketSaleDbContext db, TokenService tokens, TimeProvider time, ClaimsPrincipal admin, SecurityEvents events)
    {
        if (request.Until is { } until && until <= time.GetUtcNow())
        {
            return Problems.Invalid("until", "The end of the lock must be in the future.");
        }

        if (await db.Users.FindAsync(id) is not { } user)
        {
            return Problems.NotFound("No such account.");
        }

        if (user.Id == AdminId(admin))
        {
            return Problems.Invalid("id", "An admin cannot disable their own account.");
        }

        user.LockedUntil = request.Until ?? s_forever;
        await db.SaveChangesAsync();
        await tokens.RevokeAllAsync(user.Id);
        events.AccountDisabled(AdminId(admin), user.Id, user.Email, user.LockedUntil.Value);
        return TypedResults.Ok(Describe(user));
    }

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> EnableAsync(
        Guid id, TicketSaleDbContext db, ClaimsPrincipal admin, SecurityEvents events)
    {
        if (await db.Users.FindAsync(id) is not { } user)
        {
            return Problems.NotFound("No such account.");
        }

        user.LockedUntil = null;
        await db.SaveChangesAsync();
        events.AccountEnabled(AdminId(admin), user.Id, user.Email);
        return TypedResults.Ok(Describe(user));
    }

    /// <summary>
    /// Makes an account door staff or a customer again. Admins are not made here. Its sessions end, so the new role
    /// applies from its next sign-in (a token carries the role it was issued with).
    /// </summary>
    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult, ValidationProblem>> SetRoleAsync(
        Guid id, RoleRequest request, TicketSaleDbContext db, TokenService tokens, ClaimsPrincipal admin, SecurityEvents events)
    {
        if (request.Role is not (Roles.Staff or Roles.Customer))
        {
            return Problems.Invalid("role", $"The role is {Roles.Staff} or {Roles.Customer}.");
        }

        if (await db.Users.FindAsync(id) is not { } user)
        {
            return Problems.NotFound("No such account.");
        }

        if (user.Role == Roles.Admin)
        {
            return Problems.Invalid("id", "An admin's role is not changed here.");
        }

        user.Role = request.Role;
        await db.SaveChangesAsync();
        await tokens.RevokeAllAsync(user.Id);
        events.RoleChanged(AdminId(admin), user.Id, user.Email, user.Role);
        return TypedResults.Ok(Describe(user));
    }

    private static Guid AdminId(ClaimsPrincipal admin) => Guid.TryParse(admin.FindFirstValue("sub"), out var id) ? id : Guid.Empty;

    private static AccountResponse Describe(User user) => new(user.Id, user.Email, user.Role, user.LockedUntil);
}

public sealed record DisableRequest(DateTimeOffset? Until);

public sealed record RoleRequest(string? Role);

public sealed record AccountResponse(Guid Id, string Email, string Role, DateTimeOffset? DisabledUntil);
