using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace TicketSale.Api.Auth;

/// <summary>
/// Access tokens this replica has already validated, so that the next request with the same token is not parsed and
/// checked again: a buyer in a sale sends many requests with one token (a join, polls, holds, a purchase), and
/// validating a JWT was about a tenth of the Api's CPU per hold. An entry lives until its token expires.
/// <para>
/// The key is a SHA-256 of the whole token, not the token (about 700 bytes per buyer) nor its signature alone (a
/// forged payload beside a genuine signature must not find an entry). An entry keeps only what the Api reads of a
/// user — subject, e-mail and role — and a freshly validated principal is cut down to the same, so a request sees
/// the same user whether its token was cached or not. Bounded: when full, expired entries are swept, and a token
/// that still finds no room is simply validated every time.
/// </para>
/// </summary>
public sealed class ValidatedTokenCache(TimeProvider time, IOptions<AuthOptions> options)
{
    private static readonly string[] s_keptClaims = ["sub", "email", "role"];

    private readonly ConcurrentDictionary<UInt128, Entry> _entries = new();
    private readonly int _capacity = options.Value.ValidatedTokenCacheSize;
    private int _sweeping;

    // Kept beside the dictionary: its own Count takes every one of its locks, on each cache miss.
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The principal of a token validated before and not yet expired.</summary>
    public bool TryGet(string token, out ClaimsPrincipal? principal, out DateTimeOffset expires)
    {
        var key = Key(token);
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires > time.GetUtcNow())
            {
                principal = entry.ToPrincipal();
                expires = entry.Expires;
                return true;
            }

            Remove(key);
        }

        principal = null;
        expires = default;
        return false;
    }

    /// <summary>Remembers a token that was just validated; returns the principal requests with it will see.</summary>
    public ClaimsPrincipal Add(string token, ClaimsPrincipal validated, DateTimeOffset expires)
    {
        var identity = validated.Identities.First();
        var entry = new Entry(
            [.. s_keptClaims.Select(type => identity.FindFirst(type)).OfType<Claim>().Select(c => (c.Type, c.Value))],
            identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType, expires);
        if (Count >= _capacity)
        {
            SweepExpired();
        }

        // The same token makes the same entry: one already there stays.
        if (Count < _capacity && _entries.TryAdd(Key(token), entry))
        {
            Interlocked.Increment(ref _count);
        }

        return entry.ToPrincipal();
    }

    private void SweepExpired()
    {
        // One sweep at a time: the others meanwhile validate as if there were no cache.
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            var now = time.GetUtcNow();
            foreach (var (key, entry) in _entries)
            {
                if (entry.Expires <= now)
                {
                    Remove(key);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    private void Remove(UInt128 key)
    {
        if (_entries.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private static UInt128 Key(string token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(token.AsSpan()), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private sealed record Entry((string Type, string Value)[] Claims, string? AuthenticationType, string NameClaimType, string RoleClaimType,
        DateTimeOffset Expires)
    {
        // A principal of its own per request: nothing downstream can change another request's user.
        public ClaimsPrincipal ToPrincipal() =>
            new(new ClaimsIdentity(Claims.Select(c => new Claim(c.Type, c.Value)), AuthenticationType, NameClaimType, RoleClaimType));
    }
}
