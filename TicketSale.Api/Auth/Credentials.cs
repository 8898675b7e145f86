using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using TicketSale.Core.Data;

namespace TicketSale.Api.Auth;

public enum CredentialOutcome
{
    Accepted,
    Wrong,
    /// <summary>This address must wait after wrong passwords (<see cref="SignInThrottle"/>).</summary>
    Waiting,
    Disabled,
}

public readonly record struct CredentialCheck(CredentialOutcome Outcome, User? User, TimeSpan Wait);

/// <summary>
/// An e-mail address and password checked the one way every door uses (sign-in, password change, second-factor
/// enrolment): throttled per account and address, an unknown address answered like a wrong password in the same time
/// (a dummy hash is checked), every refusal a security event.
/// </summary>
public sealed class Credentials(TicketSaleDbContext db, IPasswordHasher<User> hasher, SignInThrottle throttle, TimeProvider time, SecurityEvents events)
{
    private static readonly User s_nobody = new() { Email = "", PasswordHash = "", Role = Roles.Customer };
    private static string? s_dummyHash;

    public async Task<CredentialCheck> CheckAsync(string email, string password, string address)
    {
        if (await throttle.WaitAsync(email, address) is var wait && wait > TimeSpan.Zero)
        {
            events.SignInDelayed(email, address, wait.TotalSeconds);
            return new(CredentialOutcome.Waiting, null, wait);
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.Email == email);
        var verdict = hasher.VerifyHashedPassword(user ?? s_nobody, user?.PasswordHash ?? DummyHash(hasher), password);
        if (user is null || verdict == PasswordVerificationResult.Failed)
        {
            var next = await throttle.FailedAsync(email, address);
            events.SignInFailed(email, address, next.TotalSeconds);
            return new(CredentialOutcome.Wrong, null, next);
        }

        if (user.LockedUntil is { } lockedUntil && lockedUntil > time.GetUtcNow())
        {
            events.SignInRefusedDisabled(user.Id, user.Email, address);
            return new(CredentialOutcome.Disabled, user, TimeSpan.Zero);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, password);
            await db.SaveChangesAsync();
        }

        return new(CredentialOutcome.Accepted, user, TimeSpan.Zero);
    }

    /// <summary>A wrong one-time code after the right password counts as a wrong password: codes cannot be guessed faster.</summary>
    public async Task<TimeSpan> SecondFactorFailedAsync(User user, string address)
    {
        var next = await throttle.FailedAsync(user.Email, address);
        events.SecondFactorFailed(user.Id, user.Email, address, next.TotalSeconds);
        return next;
    }

    /// <summary>Everything checked out: this address's mistakes on the account are forgiven.</summary>
    public Task SucceededAsync(User user, string address) => throttle.SucceededAsync(user.Email, address);

    public async Task ChangePasswordAsync(User user, string newPassword)
    {
        user.PasswordHash = hasher.HashPassword(user, newPassword);
        user.PasswordChangeRequired = false;
        await db.SaveChangesAsync();
    }

    /// <summary>A hash of nothing anyone types, made by the same hasher: checking it costs what checking a real one does.</summary>
    private static string DummyHash(IPasswordHasher<User> hasher) =>
        s_dummyHash ??= hasher.HashPassword(s_nobody, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
}
