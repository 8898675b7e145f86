using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;
using TicketSale.Core.Data;
using TicketSale.Core.Redis;

namespace TicketSale.Api.Auth;

/// <summary>
/// Short-lived JWT access tokens, and refresh tokens whose sessions live in Redis so that signing out (or an admin)
/// can revoke them on every replica at once. A sign-in starts a session; each refresh token of it can be used once
/// and is replaced by the next (rotation). A used token presented again means it was copied: the whole session ends,
/// the thief's copy and the owner's current token alike. A session ends at the latest
/// <see cref="AuthOptions.SessionLifetime"/> after its sign-in, however often it was refreshed.
/// </summary>
/// <remarks>
/// Keys (token values are kept only as hashes: a Redis dump hands out no live session):
/// <c>ts:session:{hash}</c> a live refresh token → "user:session:started";
/// <c>ts:session:used:{hash}</c> a rotated one → the same and when it was rotated;
/// <c>ts:sessions:{session}</c> the live token hashes of a session; <c>ts:user-sessions:{user}</c> a user's sessions.
/// </remarks>
public sealed class TokenService(IOptions<AuthOptions> options, SigningKeys keys, IConnectionMultiplexer redis, TimeProvider time)
{
    /// <summary>
    /// Redeems a live token, remembering it as used in the same step (so that a racing second redemption always finds
    /// one or the other): 1 and the session, 2 and the used token's record, or 0.
    /// </summary>
    private static readonly RedisScript s_redeem = new("""
        local live = redis.call('GETDEL', KEYS[1])
        if live then
          redis.call('SET', KEYS[2], live .. ':' .. ARGV[1], 'PX', ARGV[2])
          return {1, live}
        end
        local used = redis.call('GET', KEYS[2])
        if used then return {2, used} end
        return {0}
        """);

    private readonly AuthOptions _options = options.Value;

    /// <summary>Whether the session is past its absolute lifetime (its tokens expire with it; this covers a race).</summary>
    public bool HasEnded(SessionId session) => session.Started + _options.SessionLifetime <= time.GetUtcNow();

    /// <summary>Starts a session: the first tokens after a sign-in.</summary>
    public Task<TokenResponse> IssueAsync(User user) => IssueAsync(user, new SessionId(Guid.NewGuid(), time.GetUtcNow()), replacing: null);

    /// <summary>The next tokens of a session whose refresh token was redeemed.</summary>
    public Task<TokenResponse> RenewAsync(User user, Redemption redemption) => IssueAsync(user, redemption.Session, redemption.TokenHash);

    /// <summary>
    /// The session's set of live tokens gains the new one before it loses the one it replaces: it is never empty, and
    /// so never gone, while the session lives.
    /// </summary>
    private async Task<TokenResponse> IssueAsync(User user, SessionId session, string? replacing)
    {
        var now = time.GetUtcNow();
        var access = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Issuer,
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, user.Id.ToString()),
                new Claim(JwtRegisteredClaimNames.Email, user.Email),
                new Claim("role", user.Role),
                new Claim(TokenValidation.EmailVerifiedClaim, user.EmailVerifiedAt is null ? "false" : "true", ClaimValueTypes.Boolean),
            ]),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + _options.AccessTokenLifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(keys.Current, SecurityAlgorithms.EcdsaSha256),
        });

        var refresh = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var hash = Hash(refresh);
        var sessionLeft = session.Started + _options.SessionLifetime - now;
        var tokenLifetime = sessionLeft < _options.RefreshTokenLifetime ? sessionLeft : _options.RefreshTokenLifetime;
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var writes = new[]
        {
            batch.StringSetAsync(LiveKey(hash), Describe(user.Id, session), tokenLifetime),
            batch.SetAddAsync(SessionKey(session.Id), hash),
            replacing is null ? Task.FromResult(true) : batch.SetRemoveAsync(SessionKey(session.Id), replacing),
            batch.KeyExpireAsync(SessionKey(session.Id), sessionLeft),
            batch.SetAddAsync(UserSessionsKey(user.Id), $"{session.Id:N}"),
            batch.KeyExpireAsync(UserSessionsKey(user.Id), _options.SessionLifetime),
        };
        batch.Execute();
        await Task.WhenAll(writes);
        return new TokenResponse(access, refresh, (int)_options.AccessTokenLifetime.TotalSeconds, user.Role);
    }

    /// <summary>
    /// Consumes a refresh token. A used token presented again within <see cref="AuthOptions.RefreshReuseLeeway"/> of
    /// its rotation is a browser's requests racing each other and redeems again; later, it ends the whole session.
    /// </summary>
    public async Task<Redemption> RedeemAsync(string refreshToken)
    {
        var hash = Hash(refreshToken);
        var db = redis.GetDatabase();
        var now = time.GetUtcNow();
        var reply = (RedisResult[])(await s_redeem.EvaluateAsync(db, [LiveKey(hash), UsedKey(hash)],
            [now.ToUnixTimeMilliseconds(), (long)_options.RefreshTokenLifetime.TotalMilliseconds]))!;
        if ((int)reply[0] == 1)
        {
            var (userId, session) = Parse((string)reply[1]!);
            return new Redemption(RedemptionResult.Redeemed, userId, session, hash);
        }

        if ((int)reply[0] == 0)
        {
            return new Redemption(RedemptionResult.Unknown, default, default, hash);
        }

        var used = (string)reply[1]!;
        var (reusedBy, reusedSession) = Parse(used);
        var rotatedAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(used.Split(':')[3], CultureInfo.InvariantCulture));
        if (now - rotatedAt <= _options.RefreshReuseLeeway && await db.KeyExistsAsync(SessionKey(reusedSession.Id)))
        {
            return new Redemption(RedemptionResult.Redeemed, reusedBy, reusedSession, hash);
        }

        await EndSessionAsync(reusedSession.Id);
        return new Redemption(RedemptionResult.Reused, reusedBy, reusedSession, hash);
    }

    /// <summary>Ends the session the refresh token belongs to, whether it is the current token or an older one.</summary>
    public async Task RevokeAsync(string refreshToken)
    {
        var hash = Hash(refreshToken);
        var db = redis.GetDatabase();
        var value = await db.StringGetAsync(LiveKey(hash));
        if (!value.HasValue)
        {
            value = await db.StringGetAsync(UsedKey(hash));
        }

        if (value.HasValue)
        {
            await EndSessionAsync(Parse((string)value!).Session.Id);
        }
    }

    /// <summary>Ends every session of a user (an account disabled): none of their refresh tokens works any more.</summary>
    public async Task RevokeAllAsync(Guid userId)
    {
        var db = redis.GetDatabase();
        foreach (var session in await db.SetMembersAsync(UserSessionsKey(userId)))
        {
            await EndSessionAsync(Guid.ParseExact((string)session!, "N"));
        }

        await db.KeyDeleteAsync(UserSessionsKey(userId));
    }

    public async Task EndSessionAsync(Guid sessionId)
    {
        var db = redis.GetDatabase();
        var hashes = await db.SetMembersAsync(SessionKey(sessionId));
        await Task.WhenAll(hashes.Select(h => db.KeyDeleteAsync(LiveKey((string)h!))));
        await db.KeyDeleteAsync(SessionKey(sessionId));
    }

    private static string Describe(Guid userId, SessionId session) =>
        $"{userId:N}:{session.Id:N}:{session.Started.ToUnixTimeMilliseconds()}";

    /// <summary>The user and session of a live token's record, or of a used one's (which adds when it was rotated).</summary>
    private static (Guid UserId, SessionId Session) Parse(string value)
    {
        var parts = value.Split(':');
        return (Guid.ParseExact(parts[0], "N"),
            new SessionId(Guid.ParseExact(parts[1], "N"), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[2], CultureInfo.InvariantCulture))));
    }

    private static string Hash(string refreshToken) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(refreshToken)));

    // One hash slot for a token's two keys: the redemption script reads both.
    private static RedisKey LiveKey(string hash) => "ts:session:{" + hash + "}";

    private static RedisKey UsedKey(string hash) => "ts:session:used:{" + hash + "}";

    private static RedisKey SessionKey(Guid session) => $"ts:sessions:{session:N}";

    private static RedisKey UserSessionsKey(Guid user) => $"ts:user-sessions:{user:N}";
}

/// <summary>A session: one sign-in and the refresh tokens that follow it.</summary>
public readonly record struct SessionId(Guid Id, DateTimeOffset Started);

public enum RedemptionResult
{
    /// <summary>Unknown, expired or revoked.</summary>
    Unknown,
    Redeemed,
    /// <summary>Used before: the session it belonged to is ended.</summary>
    Reused,
}

/// <summary>What a refresh token turned out to be; <see cref="TokenHash"/> is how the session's set knows it.</summary>
public readonly record struct Redemption(RedemptionResult Result, Guid UserId, SessionId Session, string TokenHash);

public sealed record TokenResponse(string AccessToken, string RefreshToken, int ExpiresIn, string Role);
