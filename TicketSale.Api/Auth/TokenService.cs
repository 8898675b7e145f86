using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;
using TicketSale.Core.Data;

namespace TicketSale.Api.Auth;

/// <summary>
/// Short-lived JWT access tokens, and refresh tokens whose sessions live in Redis so that signing out (or an admin)
/// can revoke them on every replica at once. Refresh tokens rotate: each can be used once.
/// </summary>
public sealed class TokenService(IOptions<AuthOptions> options, IConnectionMultiplexer redis, TimeProvider time)
{
    private readonly AuthOptions _options = options.Value;

    public async Task<TokenResponse> IssueAsync(User user)
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
            ]),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + _options.AccessTokenLifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(TokenValidation.SigningKey(_options), SecurityAlgorithms.HmacSha256),
        });

        var refresh = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        await redis.GetDatabase().StringSetAsync(SessionKey(refresh), $"{user.Id:N}", _options.RefreshTokenLifetime);
        return new TokenResponse(access, refresh, (int)_options.AccessTokenLifetime.TotalSeconds, user.Role);
    }

    /// <summary>Consumes a refresh token: returns its user id, or null when it is unknown, used or revoked.</summary>
    public async Task<Guid?> RedeemAsync(string refreshToken)
    {
        var value = await redis.GetDatabase().StringGetDeleteAsync(SessionKey(refreshToken));
        return value.HasValue ? Guid.Parse((string)value!) : null;
    }

    public Task RevokeAsync(string refreshToken) => redis.GetDatabase().KeyDeleteAsync(SessionKey(refreshToken));

    // Only a hash is stored: a Redis dump does not hand out live sessions.
    private static RedisKey SessionKey(string refreshToken) =>
        "ts:session:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(refreshToken)));
}

public sealed record TokenResponse(string AccessToken, string RefreshToken, int ExpiresIn, string Role);
