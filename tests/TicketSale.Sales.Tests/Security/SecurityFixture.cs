namespace TicketSale.Sales.Tests;

/// <summary>
/// The application with the limits a deployment has on sign-in, sessions and the waiting room, for the tests that
/// attack them. Each test comes from loopback addresses of its own (<see cref="Visitor"/>), as the herd comes from
/// addresses of its own. Sessions are short here so that a test sees them renewed and ended: access tokens live 10 s,
/// a session 20 s, and a reused refresh token is forgiven for 1 s. Event streams: 3 per user, 5 per address, 3 s idle;
/// 300 connections per process.
/// </summary>
public sealed class SecurityFixture : SaleFixture
{
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan RefreshReuseLeeway = TimeSpan.FromSeconds(1);
    public const int EventStreamsPerUser = 3;
    public const int EventStreamsPerAddress = 5;
    public static readonly TimeSpan EventStreamIdleTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A key the Api has rotated away from: its public half stays in the Api's key set (Auth:ValidationKeys), so the
    /// tokens it signed are honoured until they expire. The test holds its private half to sign such tokens.
    /// </summary>
    public static readonly string RetiredSigningKey = AccessTokens.NewKey();

    /// <summary>Connections each Api replica and the gateway keep open at once (a deployment's are in the thousands).</summary>
    public const int MaxConnections = 300;

    protected override void ConfigureRateLimits(IResourceBuilder<ProjectResource> service)
    {
        // Only what the fixture's own set-up needs is raised (campaigns are created from the test's address).
        foreach (var (limitClass, buckets) in new[] { ("holds", new[] { "PerUser", "PerIp" }), ("purchases", new[] { "PerUser", "PerIp" }), ("reads", new[] { "PerIp" }) })
        {
            foreach (var bucket in buckets)
            {
                service.WithEnvironment($"RateLimits__Classes__{limitClass}__{bucket}__Capacity", "1000000")
                    .WithEnvironment($"RateLimits__Classes__{limitClass}__{bucket}__PerSecond", "1000000");
            }
        }

        service.WithEnvironment("RateLimits__EventStreamsPerUser", EventStreamsPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("RateLimits__EventStreamsPerAddress", EventStreamsPerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("RateLimits__EventStreamIdleTimeout", EventStreamIdleTimeout.ToString());
        // The fixture's own admin works from 127.0.0.1; the tests' visitors come from 127.1.0.0/16.
        service.WithEnvironment("Admin__AllowedNetworks__0", "127.0.0.0/24");
        service.WithEnvironment("Kestrel__Limits__MaxConcurrentConnections", MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture));
        service.WithEnvironment("Auth__AccessTokenLifetime", AccessTokenLifetime.ToString())
            .WithEnvironment("Auth__SessionLifetime", SessionLifetime.ToString())
            .WithEnvironment("Auth__RefreshReuseLeeway", RefreshReuseLeeway.ToString())
            .WithEnvironment("Auth__ValidationKeys__0", AccessTokens.PublicKey(RetiredSigningKey));
    }

    /// <summary>A browser or API client of its own from a loopback address nobody else uses.</summary>
    public Visitor NewVisitor() => new(Web, Loopback.NextAddress(), Mailbox);
}

[CollectionDefinition(Name)]
public sealed class SecurityCollection : ICollectionFixture<SecurityFixture>
{
    public const string Name = "security";
}
