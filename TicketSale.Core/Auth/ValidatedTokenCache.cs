using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using TicketSale.Core.Data;

namespace TicketSale.Core.Auth;

/// <summary>
/// Access tokens this replica has already validated, so that the next request with the same token is not parsed and
/// checked again: a buyer in a sale sends many requests with one token (a join, polls, holds, a purchase), and
/// validating a JWT was about a tenth of the Api's CPU per hold. An entry lives until its token expires.
/// <para>
/// The key is a SHA-256 of the whole token, not the token (about 700 bytes per buyer) nor its signature alone (a
/// forged payload beside a genuine signature must not find an entry). An entry keeps only what the Api reads of a
/// user — subject, role and whether the e-mail address is confirmed — and a freshly validated principal is cut down to
/// the same, so a request sees the same user whether its token was cached or not. About 160 bytes an entry, counted from its fields (the subject as a
/// Guid, the role one shared string; about 450 with subject, e-mail and role as strings): a full cache of 100,000 is
/// about 16 MB, which a replica carries at its peak. Bounded: when full, expired entries are swept, and a token that
/// still finds no room is simply validated every time.
/// </para>
/// </summary>
public sealed class ValidatedTokenCache(TimeProvider time, IOptions<AuthOptions> options)
{
    private readonly ConcurrentDictionary<UInt128, Entry> _entries = new();
    private readonly int _capacity = options.Value.ValidatedTokenCacheSize;
    private int _sweeping;

    // Kept beside the dictionary: its own Count takes every one of its locks, on each cache miss.
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The principal of a token validated before and not yet expired.</summary>
    public bool TryGet(ReadOnlySpan<char> token, out ClaimsPrincipal? principal, out DateTimeOffset expires)
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
        var subject = identity.FindFirst("sub")?.Value;
        var isGuid = Guid.TryParse(subject, out var id) && id.ToString() == subject;
        var entry = new Entry(isGuid ? id : null, isGuid ? null : subject,
            Shared(identity.FindFirst("role")?.Value), validated.HasVerifiedEmail(), identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType, expires);
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

    private static UInt128 Key(ReadOnlySpan<char> token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(token), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    /// <summary>The roles there are, one string each, rather than a copy per entry.</summary>
    private static string? Shared(string? role) => role switch
    {
        Roles.Customer => Roles.Customer,
        Roles.Admin => Roles.Admin,
        Roles.Staff => Roles.Staff,
        _ => role,
    };

    /// <param name="SubjectId">The subject when it is a Guid, as the Api's always are (16 bytes rather than a 36-character string).</param>
    /// <param name="Subject">Any other subject.</param>
    private sealed record Entry(Guid? SubjectId, string? Subject, string? Role, bool EmailVerified, string? AuthenticationType, string NameClaimType,
        string RoleClaimType, DateTimeOffset Expires)
    {
        // A principal of its own per request: nothing downstream can change another request's user.
        public ClaimsPrincipal ToPrincipal()
        {
            var identity = new ClaimsIdentity(AuthenticationType, NameClaimType, RoleClaimType);
            if ((Subject ?? SubjectId?.ToString()) is { } subject)
            {
                identity.AddClaim(new Claim("sub", subject));
            }

            if (Role is not null)
            {
                identity.AddClaim(new Claim("role", Role));
            }

            if (EmailVerified)
            {
                identity.AddClaim(new Claim(TokenValidation.EmailVerifiedClaim, "true"));
            }

            return new ClaimsPrincipal(identity);
        }
    }
}
