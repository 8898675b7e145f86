using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TicketSale.Api.Auth;
using TicketSale.Api.RateLimiting;
using TicketSale.Core.Data;

namespace TicketSale.Api.Apis;

public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Accounts")
            .WithRateLimitClass(RateLimitClasses.Auth);
        auth.MapPost("/register", RegisterAsync);
        auth.MapPost("/login", LoginAsync);
        auth.MapPost("/refresh", RefreshAsync);
        auth.MapPost("/logout", LogoutAsync);
        return app;
    }

    private static async Task<Results<Created<UserResponse>, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, TicketSaleDbContext db, IPasswordHasher<User> hasher, TimeProvider time)
    {
        var email = request.Email.Trim().ToLowerInvariant();
        var user = new User { Id = Guid.CreateVersion7(), Email = email, PasswordHash = "", Role = Roles.Customer, CreatedAt = time.GetUtcNow() };
        user.PasswordHash = hasher.HashPassword(user, request.Password);
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return TypedResults.Problem("An account with this e-mail address exists.", statusCode: StatusCodes.Status409Conflict);
        }

        return TypedResults.Created($"/api/users/{user.Id}", new UserResponse(user.Id, user.Email, user.Role));
    }

    /// <summary>
    /// Wrong passwords count against the account; past the limit it is locked for a while, whatever the password.
    /// The answer for an unknown e-mail and a wrong password is the same.
    /// </summary>
    private static async Task<IResult> LoginAsync(
        LoginRequest request, TicketSaleDbContext db, IPasswordHasher<User> hasher, TokenService tokens, IOptions<AuthOptions> options, TimeProvider time,
        TokenBuckets buckets, HttpContext context)
    {
        var email = request.Email.Trim().ToLowerInvariant();
        var throttle = await buckets.TakeAsync(RateLimitExtensions.SignInBuckets(context, email));
        HttpRateLimits.Apply(context.Response, throttle);
        if (!throttle.Allowed)
        {
            return HttpRateLimits.TooManyRequests(throttle);
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.Email == email);
        var now = time.GetUtcNow();
        if (user?.LockedUntil is { } lockedUntil && lockedUntil > now)
        {
            return Locked(lockedUntil - now);
        }

        var verdict = user is null ? PasswordVerificationResult.Failed : hasher.VerifyHashedPassword(user, user.PasswordHash, request.Password);
        if (user is null || verdict == PasswordVerificationResult.Failed)
        {
            if (user is not null)
            {
                user.FailedSignIns++;
                if (user.FailedSignIns >= options.Value.MaxFailedSignIns)
                {
                    user.FailedSignIns = 0;
                    user.LockedUntil = now + options.Value.LockoutDuration;
                    await db.SaveChangesAsync();
                    return Locked(options.Value.LockoutDuration);
                }

                await db.SaveChangesAsync();
            }

            return TypedResults.Problem("Wrong e-mail address or password.", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, request.Password);
        }

        user.FailedSignIns = 0;
        user.LockedUntil = null;
        await db.SaveChangesAsync();
        return TypedResults.Ok(await tokens.IssueAsync(user));
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RefreshAsync(RefreshRequest request, TokenService tokens, TicketSaleDbContext db)
    {
        if (await tokens.RedeemAsync(request.RefreshToken) is not { } userId
            || await db.Users.FindAsync(userId) is not { } user)
        {
            return TypedResults.Problem("The refresh token is unknown, used or revoked.", statusCode: StatusCodes.Status401Unauthorized);
        }

        return TypedResults.Ok(await tokens.IssueAsync(user));
    }

    private static async Task<NoContent> LogoutAsync(RefreshRequest request, TokenService tokens)
    {
        await tokens.RevokeAsync(request.RefreshToken);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult Locked(TimeSpan retryAfter) =>
        TypedResults.Problem(
            "Too many wrong passwords: the account is locked for a while.",
            statusCode: StatusCodes.Status423Locked,
            extensions: new Dictionary<string, object?> { ["retryAfterSeconds"] = (int)Math.Ceiling(retryAfter.TotalSeconds) });
}

public sealed record RegisterRequest(
    [property: Required, EmailAddress, MaxLength(254)] string Email,
    [property: Required, MinLength(10), MaxLength(128)] string Password);

public sealed record LoginRequest(
    [property: Required, MaxLength(254)] string Email,
    [property: Required, MaxLength(128)] string Password);

public sealed record RefreshRequest([property: Required, MaxLength(100)] string RefreshToken);

public sealed record UserResponse(Guid Id, string Email, string Role);
