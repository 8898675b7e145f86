using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace TicketSale.Api.Auth;

/// <summary>
/// Wrong passwords slow down the guesser, not the account's owner: no lock that anyone who knows an e-mail address
/// could set off. Failures count per account and address; past <see cref="AuthOptions.FreeFailedSignIns"/> that
/// address waits a doubling delay before its next try at that account, up to <see cref="AuthOptions.MaxSignInDelay"/>.
/// Guesses spread over many addresses count against the account as well, but that delay (much shorter) holds only for
/// addresses the account has not signed in from before. A successful sign-in clears its address's failures.
/// Everything is keyed by the e-mail address as typed, so an unknown address is throttled exactly like a known one.
/// </summary>
public sealed class SignInThrottle(IConnectionMultiplexer redis, IOptions<AuthOptions> options)
{
    private static readonly TimeSpan s_familiarFor = TimeSpan.FromDays(90);

    private readonly AuthOptions _options = options.Value;

    /// <summary>How long this address must wait before it may try a password on this account; zero when it may now.</summary>
    public async Task<TimeSpan> WaitAsync(string email, string address)
    {
        var account = Account(email);
        var db = redis.GetDatabase();
        var byAddress = db.KeyTimeToLiveAsync(WaitKey(account, address));
        var byAccount = db.KeyTimeToLiveAsync(WaitKey(account, null));
        var familiar = db.SetContainsAsync(FamiliarKey(account), address);
        var wait = await byAddress ?? TimeSpan.Zero;
        if (await byAccount is { } accountWait && accountWait > wait && !await familiar)
        {
            wait = accountWait;
        }

        return wait;
    }

    /// <summary>Counts a wrong password and returns the wait it sets for this address.</summary>
    public async Task<TimeSpan> FailedAsync(string email, string address)
    {
        var account = Account(email);
        var db = redis.GetDatabase();
        var byAddress = await CountAsync(db, FailuresKey(account, address));
        var byAccount = await CountAsync(db, FailuresKey(account, null));
        var addressWait = Delay(byAddress, _options.FreeFailedSignIns, _options.MaxSignInDelay);
        var accountWait = Delay(byAccount, _options.AccountFreeFailedSignIns, _options.MaxAccountSignInDelay);
        if (addressWait > TimeSpan.Zero)
        {
            await db.StringSetAsync(WaitKey(account, address), 1, addressWait);
        }

        if (accountWait > TimeSpan.Zero)
        {
            await db.StringSetAsync(WaitKey(account, null), 1, accountWait);
        }

        return addressWait > accountWait ? addressWait : accountWait;
    }

    /// <summary>The right password: this address's failures are forgiven, and it is one the owner uses.</summary>
    public async Task SucceededAsync(string email, string address)
    {
        var account = Account(email);
        var db = redis.GetDatabase();
        await db.KeyDeleteAsync([FailuresKey(account, address), WaitKey(account, address)]);
        await db.SetAddAsync(FamiliarKey(account), address);
        await db.KeyExpireAsync(FamiliarKey(account), s_familiarFor);
    }

    /// <summary>No wait for the first <paramref name="free"/> failures, then 1 s, 2 s, 4 s … up to <paramref name="max"/>.</summary>
    public static TimeSpan Delay(long failures, int free, TimeSpan max)
    {
        if (failures <= free)
        {
            return TimeSpan.Zero;
        }

        var doublings = Math.Min(failures - free - 1, 30);
        var delay = TimeSpan.FromSeconds(1L << (int)doublings);
        return delay < max ? delay : max;
    }

    private async Task<long> CountAsync(IDatabase db, RedisKey key)
    {
        var count = await db.StringIncrementAsync(key);
        await db.KeyExpireAsync(key, _options.FailedSignInMemory);
        return count;
    }

    private static string Account(string email) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(email)))[..32];

    private static RedisKey FailuresKey(string account, string? address) => address is null ? $"ts:signin:{account}:failures" : $"ts:signin:{account}:failures:{address}";

    private static RedisKey WaitKey(string account, string? address) => address is null ? $"ts:signin:{account}:wait" : $"ts:signin:{account}:wait:{address}";

    private static RedisKey FamiliarKey(string account) => $"ts:signin:{account}:familiar";
}
