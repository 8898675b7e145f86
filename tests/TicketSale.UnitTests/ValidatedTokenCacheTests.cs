using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TicketSale.Core.Auth;

namespace TicketSale.UnitTests;

public sealed class ValidatedTokenCacheTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 5, 1, 12, 0, 0, TimeSpan.Zero));

    private ValidatedTokenCache Cache(int size = 100) =>
        new(_time, Options.Create(new AuthOptions { SigningKey = new string('k', 32), ValidatedTokenCacheSize = size }));

    private static ClaimsPrincipal Validated(string user) => new(new ClaimsIdentity(
        [new Claim("sub", user), new Claim("email", $"{user}@example.com"), new Claim("role", "customer"), new Claim("iat", "1900000000")],
        "AuthenticationTypes.Federation", "sub", "role"));

    [Fact]
    public void A_remembered_token_gives_the_subject_and_role_and_nothing_else()
    {
        var cache = Cache();
        var added = cache.Add("header.payload.signature", Validated("alice"), _time.GetUtcNow().AddMinutes(10));

        Assert.True(cache.TryGet("header.payload.signature", out var principal, out var expires));
        Assert.Equal(_time.GetUtcNow().AddMinutes(10), expires);
        foreach (var user in new[] { added, principal! })
        {
            Assert.Equal(["sub", "role"], user.Claims.Select(c => c.Type));
            Assert.Equal("alice", user.FindFirstValue("sub"));
            Assert.Equal("alice", user.Identity!.Name);
            Assert.True(user.IsInRole("customer"));
            Assert.True(user.Identity.IsAuthenticated);
        }

        // Each request gets a principal of its own.
        Assert.True(cache.TryGet("header.payload.signature", out var again, out _));
        Assert.NotSame(principal, again);
    }

    [Fact]
    public void A_remembered_token_keeps_whether_the_e_mail_address_was_confirmed()
    {
        var cache = Cache();
        var confirmed = Validated("bob");
        ((ClaimsIdentity)confirmed.Identity!).AddClaim(new Claim(TokenValidation.EmailVerifiedClaim, "True", ClaimValueTypes.Boolean));
        cache.Add("confirmed.payload.signature", confirmed, _time.GetUtcNow().AddMinutes(10));
        cache.Add("unconfirmed.payload.signature", Validated("carol"), _time.GetUtcNow().AddMinutes(10));

        Assert.True(cache.TryGet("confirmed.payload.signature", out var bob, out _));
        Assert.True(bob!.HasVerifiedEmail());
        Assert.True(cache.TryGet("unconfirmed.payload.signature", out var carol, out _));
        Assert.False(carol!.HasVerifiedEmail());
    }

    [Fact]
    public void Only_the_exact_token_finds_its_entry()
    {
        var cache = Cache();
        cache.Add("header.payload.signature", Validated("alice"), _time.GetUtcNow().AddMinutes(10));

        Assert.False(cache.TryGet("header.payloaD.signature", out _, out _));
        Assert.False(cache.TryGet("header.other.signature", out _, out _));
        Assert.False(cache.TryGet("header.payload.signature ", out _, out _));
    }

    [Fact]
    public void An_entry_ends_when_its_token_expires()
    {
        var cache = Cache();
        cache.Add("token", Validated("alice"), _time.GetUtcNow().AddSeconds(30));

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.True(cache.TryGet("token", out _, out _));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet("token", out _, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_full_cache_sweeps_expired_entries_and_otherwise_takes_no_more()
    {
        var cache = Cache(size: 2);
        cache.Add("short", Validated("a"), _time.GetUtcNow().AddSeconds(10));
        cache.Add("long", Validated("b"), _time.GetUtcNow().AddMinutes(10));

        var principal = cache.Add("refused", Validated("c"), _time.GetUtcNow().AddMinutes(10));
        Assert.Equal("c", principal.FindFirstValue("sub"));
        Assert.False(cache.TryGet("refused", out _, out _));
        Assert.Equal(2, cache.Count);

        _time.Advance(TimeSpan.FromSeconds(10));
        cache.Add("admitted", Validated("d"), _time.GetUtcNow().AddMinutes(10));
        Assert.True(cache.TryGet("admitted", out _, out _));
        Assert.True(cache.TryGet("long", out _, out _));
        Assert.False(cache.TryGet("short", out _, out _));
    }

    [Fact]
    public void The_count_stays_exact_under_parallel_adds_of_the_same_and_of_expiring_tokens()
    {
        // The count is kept beside the dictionary: a token added twice (two requests validated it at once) counts
        // once, and every entry that leaves takes one off, or a full cache would refuse tokens it has room for.
        var cache = Cache(size: 10_000);
        Parallel.For(0, 8_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            cache.Add($"token-{i % 2_000}", Validated($"user-{i % 2_000}"), _time.GetUtcNow().AddSeconds(30)));
        Assert.Equal(2_000, cache.Count);

        _time.Advance(TimeSpan.FromSeconds(30));
        Parallel.For(0, 8_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => cache.TryGet($"token-{i % 2_000}", out _, out _));
        Assert.Equal(0, cache.Count);
    }

    [Theory]
    [InlineData("0b9f6a0e-2c4d-4c1e-9a53-5f0f3f1f2a7b")]
    [InlineData("0B9F6A0E-2C4D-4C1E-9A53-5F0F3F1F2A7B")]
    [InlineData("not-a-guid")]
    public void The_subject_comes_back_exactly_as_the_token_had_it(string subject)
    {
        // Kept as a Guid when it is one in its usual form (the Api's subjects), as text otherwise: either way the same string.
        var cache = Cache();
        cache.Add("token", Validated(subject), _time.GetUtcNow().AddMinutes(10));

        Assert.True(cache.TryGet("token", out var principal, out _));
        var user = principal!;
        Assert.Equal(subject, user.FindFirstValue("sub"));
        Assert.Equal(subject, user.Identity!.Name);
    }
}
