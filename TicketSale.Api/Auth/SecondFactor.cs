using OtpNet;
using StackExchange.Redis;
using TicketSale.Core.Data;

namespace TicketSale.Api.Auth;

/// <summary>
/// One-time codes from an authenticator app (TOTP, RFC 6238: six digits, 30-second steps, the apps' defaults): admins
/// must sign in with one besides their password, and anyone who enrolled does. A code is accepted one step early or
/// late (clocks drift) and only once: a code read off the wire cannot be replayed.
/// </summary>
public sealed class SecondFactor(IConnectionMultiplexer redis, TimeProvider time)
{
    public const string Issuer = "TicketSale";

    /// <summary>Whether this account signs in with a code: admins always, others once they enrolled.</summary>
    public static bool IsRequired(User user) => user.Role == Roles.Admin || user.TotpSecret is not null;

    public static string NewSecret() => Base32Encoding.ToString(KeyGeneration.GenerateRandomKey(20));

    /// <summary>What an authenticator app reads (as a QR code or typed) to produce the account's codes.</summary>
    public static string SetupUri(string secret, string email) =>
        $"otpauth://totp/{Issuer}:{Uri.EscapeDataString(email)}?secret={secret}&issuer={Issuer}&digits=6&period=30";

    public async Task<bool> VerifyAsync(User user, string? code)
    {
        if (user.TotpSecret is null || code is not { Length: 6 } || !code.All(char.IsAsciiDigit))
        {
            return false;
        }

        var totp = new Totp(Base32Encoding.ToBytes(user.TotpSecret));
        if (!totp.VerifyTotp(time.GetUtcNow().UtcDateTime, code, out var step, new VerificationWindow(previous: 1, future: 1)))
        {
            return false;
        }

        // The first use of the step's code claims it; the window is three steps, so it is remembered a little longer.
        return await redis.GetDatabase().StringSetAsync($"ts:totp:{user.Id:N}:{step}", 1, TimeSpan.FromMinutes(3), When.NotExists);
    }
}
