using StackExchange.Redis;

namespace TicketSale.Sales.Tests;

/// <summary>
/// A service that is broken into reaches Redis only as its own ACL user: no admin or dangerous command, and only its
/// own keys. The gateway's session keys kept there are encrypted. The attacks run with the login the service was given.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class RedisUsersTests(SecurityFixture fixture)
{
    [Theory]
    [InlineData("api", "ticketsale-api")]
    [InlineData("worker", "ticketsale-worker")]
    [InlineData("web", "ticketsale-web")]
    public async Task A_service_uses_redis_as_its_own_user_that_cannot_run_admin_or_dangerous_commands(string service, string user)
    {
        var environment = fixture.App.GetServiceEnvironment(service);
        var options = ConfigurationOptions.Parse(environment["ConnectionStrings__cache"]);
        Assert.Equal(user, options.User);
        // The default user's password is nowhere in what the service was given.
        var operators = ConfigurationOptions.Parse(fixture.App.GetConnectionString("cache")).Password!;
        Assert.DoesNotContain(environment.Values, v => v.Contains(operators, StringComparison.Ordinal));
        // Let the client send what it would refuse to send by itself: the server must refuse it.
        options.AllowAdmin = true;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var db = redis.GetDatabase();

        foreach (var (command, arguments) in new (string, object[])[]
        {
            ("FLUSHALL", []),
            ("CONFIG", ["SET", "maxmemory-policy", "allkeys-lru"]),
            ("KEYS", ["*"]),
            ("ACL", ["SETUSER", "intruder", "on", ">secret", "~*", "+@all"]),
            ("SAVE", []),
            ("CLIENT", ["KILL", "ID", "1"]),
            ("SHUTDOWN", ["NOSAVE"]),
            ("REPLICAOF", ["127.0.0.1", "1"]),
            ("SCRIPT", ["FLUSH"]),
        })
        {
            var refused = await Assert.ThrowsAsync<RedisServerException>(() => db.ExecuteAsync(command, arguments));
            Assert.StartsWith("NOPERM", refused.Message, StringComparison.Ordinal);
        }

        var outside = await Assert.ThrowsAsync<RedisServerException>(() => db.StringSetAsync($"other:{Guid.NewGuid():N}", "x"));
        Assert.StartsWith("NOPERM", outside.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("web")]
    [InlineData("worker")]
    public async Task The_gateway_and_the_worker_cannot_read_or_write_sessions_or_sign_in_records(string service)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetServiceEnvironment(service)["ConnectionStrings__cache"]);
        var db = redis.GetDatabase();
        foreach (var key in new[] { $"ts:session:{Guid.NewGuid():N}", $"ts:user-sessions:{Guid.NewGuid():N}", $"ts:signin:{Guid.NewGuid():N}:wait", $"ts:totp:{Guid.NewGuid():N}:1" })
        {
            Assert.StartsWith("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() => db.StringGetAsync(key))).Message, StringComparison.Ordinal);
            Assert.StartsWith("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() => db.StringSetAsync(key, "x"))).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Every_connection_to_redis_but_the_operators_is_a_service_user()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache") + ",allowAdmin=true");
        var users = (await admin.GetServers()[0].ClientListAsync()).Select(c => Field(c.Raw, "user")).ToHashSet();

        Assert.Contains("ticketsale-api", users);
        Assert.Contains("ticketsale-worker", users);
        Assert.Contains("ticketsale-web", users);
        // "default" is the operators' login: the tests' inspections and the AppHost's health probe.
        Assert.Subset(new HashSet<string?> { "ticketsale-api", "ticketsale-worker", "ticketsale-web", "default" }, users);
    }

    [Fact]
    public async Task The_gateways_session_keys_are_encrypted_in_redis()
    {
        using var buyer = fixture.NewVisitor();
        var email = await buyer.RegisterAsync();
        (await buyer.BrowserLoginAsync(email, SaleFixture.CustomerPassword)).EnsureSuccessStatusCode();

        await using var admin = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var keys = await admin.GetDatabase().ListRangeAsync("ts:dataprotection:keys");
        Assert.NotEmpty(keys);
        Assert.All(keys, key =>
        {
            Assert.Contains("<EncryptedData", key.ToString(), StringComparison.Ordinal);
            // An unencrypted key carries its secret in <masterKey><value>…</value>.
            Assert.DoesNotContain("<value>", key.ToString(), StringComparison.Ordinal);
        });
    }

    private static string? Field(string? raw, string name) =>
        (raw ?? "").Split(" ").Select(p => p.Split("=", 2)).FirstOrDefault(p => p.Length == 2 && p[0] == name)?[1];
}
