using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using TicketSale.Api.Auth;
using TicketSale.Core.Data;

namespace TicketSale.Api.Apis;

public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Accounts")
            .WithRateLimitClass(RateLimitClasses.Auth)
            // Tokens are never kept by a cache or a browser's history.
            .AddEndpointFilter(async (context, next) =>
            {
                context.HttpContext.Response.Headers.CacheControl = "no-store";
                context.HttpContext.Response.Headers.Pragma = "no-cache";
                return await next(context);
            });
        auth.MapPost("/register", RegisterAsync);
        auth.MapPost("/login", LoginAsync);
        auth.MapPost("/refresh", RefreshAsync);
        auth.MapPost("/logout", LogoutAsync);
        auth.MapPost("/password", ChangePasswordAsync);
        auth.MapPost("/second-factor", EnrollSecondFactorAsync);
        auth.MapPost("/verify-email", VerifyEmailAsync);
        auth.MapPost("/verify-email/resend", ResendVerificationAsync);
        return app;
    }

    /// <summary>Creates a customer account and sends the link that confirms its e-mail address (needed before buying).</summary>
    private static async Task<Results<Created<UserResponse>, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, TicketSaleDbContext db, IPasswordHasher<User> hasher, TimeProvider time, EmailVerification verification, HttpContext context)
    {
        var email = Normalize(request.Email);
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

        await verification.SendAsync(user, context.RequestAborted);
        return TypedResults.Created($"/api/users/{user.Id}", new UserResponse(user.Id, user.Email, user.Role));
    }

    /// <summary>Confirms the address the link was sent to; the next access token (sign-in or refresh) says so.</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> VerifyEmailAsync(
        VerifyEmailRequest request, EmailVerification verification, TicketSaleDbContext db, TimeProvider time)
    {
        if (await verification.ReadAsync(request.Token) is not { } confirmed
            || await db.Users.FindAsync(confirmed.User) is not { } user
            || user.Email != confirmed.Email)
        {
            return TypedResults.Problem("This confirmation link is not valid, or has expired: ask for another.",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid confirmation link", type: "https://ticketsale.example/problems/invalid-verification");
        }

        user.EmailVerifiedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync();
        return TypedResults.NoContent();
    }

    /// <summary>Sends another link to an account not yet confirmed. Answers alike whether the address has an account.</summary>
    private static async Task<Accepted> ResendVerificationAsync(
        ResendVerificationRequest request, EmailVerification verification, TicketSaleDbContext db, HttpContext context)
    {
        var email = Normalize(request.Email);
        if (await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Email == email) is { EmailVerifiedAt: null } user)
        {
            await verification.SendAsync(user, context.RequestAborted);
        }

        return TypedResults.Accepted((string?)null);
    }

    /// <summary>
    /// Tokens for the right password (and, where required, a one-time code). An unknown e-mail address and a wrong
    /// password get the same answer in the same time, and both make the address wait (<see cref="SignInThrottle"/>):
    /// no account is locked by others' guesses. A password given rather than chosen must be changed first.
    /// </summary>
    private static async Task<IResult> LoginAsync(LoginRequest request, Credentials credentials, SecondFactor secondFactor, TokenService tokens, HttpContext context,
        SecurityEvents events)
    {
        var (user, address, refusal) = await CheckAsync(credentials, request.Email, request.Password, context);
        if (refusal is not null)
        {
            return refusal;
        }

        if (user!.PasswordChangeRequired)
        {
            return MustChangePassword();
        }

        if (SecondFactor.IsRequired(user))
        {
            if (user.TotpSecret is null)
            {
                return Forbidden("second-factor-enrollment-required", "Admins sign in with a one-time code: enrol an authenticator app first (POST /api/auth/second-factor).");
            }

            if (!await secondFactor.VerifyAsync(user, request.TotpCode))
            {
                await credentials.SecondFactorFailedAsync(user, address);
                return TypedResults.Problem("A valid one-time code from the authenticator app is required (totpCode).", statusCode: StatusCodes.Status401Unauthorized,
                    type: ProblemType("second-factor-required"));
            }
        }

        await credentials.SucceededAsync(user, address);
        events.SignedIn(user.Id, user.Email, address);
        return TypedResults.Ok(await tokens.IssueAsync(user));
    }

    /// <summary>Changes the password (the current one proves who asks); every session of the account ends.</summary>
    private static async Task<IResult> ChangePasswordAsync(
        ChangePasswordRequest request, Credentials credentials, TokenService tokens, HttpContext context, SecurityEvents events)
    {
        if (request.NewPassword == request.Password)
        {
            return Problems.Invalid("newPassword", "The new password must differ from the current one.");
        }

        var (user, address, refusal) = await CheckAsync(credentials, request.Email, request.Password, context);
        if (refusal is not null)
        {
            return refusal;
        }

        await credentials.ChangePasswordAsync(user!, request.NewPassword);
        await tokens.RevokeAllAsync(user!.Id);
        events.PasswordChanged(user.Id, user.Email, address);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Gives the account an authenticator app's secret, once: from then on it signs in with the app's codes. Changing
    /// it later is an admin's job, as losing the phone is.
    /// </summary>
    private static async Task<IResult> EnrollSecondFactorAsync(
        EnrollSecondFactorRequest request, Credentials credentials, TicketSaleDbContext db, HttpContext context, SecurityEvents events)
    {
        var (user, address, refusal) = await CheckAsync(credentials, request.Email, request.Password, context);
        if (refusal is not null)
        {
            return refusal;
        }

        if (user!.PasswordChangeRequired)
        {
            return MustChangePassword();
        }

        if (user.TotpSecret is not null)
        {
            return Problems.Conflict("An authenticator app is enrolled already.", "second-factor-enrolled");
        }

        user.TotpSecret = SecondFactor.NewSecret();
        await db.SaveChangesAsync();
        await credentials.SucceededAsync(user, address);
        events.SecondFactorEnrolled(user.Id, user.Email, address);
        return TypedResults.Ok(new SecondFactorResponse(user.TotpSecret, SecondFactor.SetupUri(user.TotpSecret, user.Email)));
    }

    /// <summary>The account whose credentials these are, from the caller's address; or the answer when they did not check out.</summary>
    private static async Task<(User? User, string Address, ProblemHttpResult? Refusal)> CheckAsync(
        Credentials credentials, string email, string password, HttpContext context)
    {
        var address = HttpRateLimits.ClientAddress(context);
        var check = await credentials.CheckAsync(Normalize(email), password, address);
        return (check.User, address, Refusal(check, context.Response));
    }

    /// <summary>The answer for credentials that did not check out; null when they did.</summary>
    private static ProblemHttpResult? Refusal(CredentialCheck check, HttpResponse response) => check.Outcome switch
    {
        CredentialOutcome.Waiting => TooManyWrongPasswords(response, check.Wait),
        CredentialOutcome.Wrong => TypedResults.Problem("Wrong e-mail address or password.", statusCode: StatusCodes.Status401Unauthorized),
        CredentialOutcome.Disabled => TypedResults.Problem("This account is disabled.", statusCode: StatusCodes.Status403Forbidden),
        _ => null,
    };

    private static ProblemHttpResult MustChangePassword() =>
        Forbidden("password-change-required", "This password was given, not chosen: change it first (POST /api/auth/password).");

    private static ProblemHttpResult Forbidden(string type, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, type: ProblemType(type));

    private static string ProblemType(string name) => "https://ticketsale.example/problems/" + name;

    private static string Normalize(string email) => email.Trim().ToLowerInvariant();

    /// <summary>
    /// The next tokens of a session. A refresh token used before ends its session; a disabled account's session ends
    /// at its next refresh (its access token lives a few minutes more at most).
    /// </summary>
    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RefreshAsync(
        RefreshRequest request, TokenService tokens, TicketSaleDbContext db, TimeProvider time, HttpContext context, SecurityEvents events)
    {
        var redemption = await tokens.RedeemAsync(request.RefreshToken);
        if (redemption.Result == RedemptionResult.Reused)
        {
            events.RefreshTokenReused(redemption.UserId, HttpRateLimits.ClientAddress(context));
        }

        if (redemption.Result != RedemptionResult.Redeemed || tokens.HasEnded(redemption.Session))
        {
            return TypedResults.Problem("The refresh token is unknown, used or revoked.", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (await db.Users.FindAsync(redemption.UserId) is not { } user || user.LockedUntil > time.GetUtcNow())
        {
            await tokens.EndSessionAsync(redemption.Session.Id);
            return TypedResults.Problem("The account is disabled.", statusCode: StatusCodes.Status401Unauthorized);
        }

        return TypedResults.Ok(await tokens.RenewAsync(user, redemption));
    }

    /// <summary>Ends the session the refresh token belongs to.</summary>
    private static async Task<NoContent> LogoutAsync(RefreshRequest request, TokenService tokens)
    {
        await tokens.RevokeAsync(request.RefreshToken);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult TooManyWrongPasswords(HttpResponse response, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            $"Too many wrong passwords for this account from this address; try again in {seconds} s.",
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests",
            extensions: new Dictionary<string, object?> { ["retryAfterSeconds"] = seconds });
    }
}

public sealed record RegisterRequest(
    [property: Required, EmailAddress, MaxLength(254)] string Email,
    [property: Required, MinLength(10), MaxLength(128)] string Password);

public sealed record LoginRequest(
    [property: Required, MaxLength(254)] string Email,
    [property: Required, MaxLength(128)] string Password,
    [property: MaxLength(10)] string? TotpCode = null);

public sealed record ChangePasswordRequest(
    [property: Required, MaxLength(254)] string Email,
    [property: Required, MaxLength(128)] string Password,
    [property: Required, MinLength(10), MaxLength(128)] string NewPassword);

public sealed record EnrollSecondFactorRequest(
    [property: Required, MaxLength(254)] string Email,
    [property: Required, MaxLength(128)] string Password);

/// <summary>The authenticator app's secret (base32) and the otpauth URI that carries it.</summary>
public sealed record SecondFactorResponse(string Secret, string SetupUri);

public sealed record VerifyEmailRequest([property: Required, MaxLength(2048)] string Token);

public sealed record ResendVerificationRequest([property: Required, EmailAddress, MaxLength(254)] string Email);

public sealed record RefreshRequest([property: Required, MaxLength(100)] string RefreshToken);

public sealed record UserResponse(Guid Id, string Email, string Role);
