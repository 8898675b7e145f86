using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using StackExchange.Redis;

namespace TicketSale.Sales.Tests;

/// <summary>The application with tight limits: 3 holds per user at once, refilled at one every 2 seconds.</summary>
public sealed class TightLimitsFixture() : ConfiguredLimitsFixture(
    ("RateLimits__Classes__holds__PerUser__Capacity", "3"),
    ("RateLimits__Classes__holds__PerUser__PerSecond", "0.5"),
    ("RateLimits__Classes__purchases__PerUser__Capacity", "2"),
    ("RateLimits__Classes__purchases__PerUser__PerSecond", "0.25"),
    ("RateLimits__Classes__reads__PerIp__Capacity", "5"),
    ("RateLimits__Classes__reads__PerIp__PerSecond", "0.5"),
    ("RateLimits__Classes__waitingroom__PerIp__Capacity", "5"),
    ("RateLimits__Classes__waitingroom__PerIp__PerSecond", "0.5"),
    ("Auth__AccessTokenLifetime", "00:00:10"));

public sealed class RateLimitTests(TightLimitsFixture fixture) : IClassFixture<TightLimitsFixture>
{
    [Fact]
    public async Task A_user_over_the_limit_gets_429_from_either_api_replica_with_a_correct_retry_after()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 2, seatsPerRow: 10, perUserLimit: 20);
        var user = await fixture.NewCustomerAsync();
        var replicas = new[] { Direct(user, 0), Direct(user, 1) };

        // Three tokens, taken alternately on both replicas: the bucket is one, in Redis. (Access tokens live 10 s in
        // this fixture: each test signs in afresh.)
        var first = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            var response = await replicas[i % 2].PostAsync($"/api/campaigns/{campaign.Id}/holds", new { seats = new[] { i } });
            first.Add(response.Status);
        }

        Assert.All(first, s => Assert.Equal(HttpStatusCode.Created, s));
        foreach (var replica in replicas)
        {
            var refused = await replica.SendAsync(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/holds", new { seats = new[] { 10 } });
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
            Assert.Equal("application/problem+json", refused.ContentType);
        }

        // Retry-After says when the next token comes: about 2 s at half a token per second.
        var (status, retryAfter, headers) = await HoldWithHeadersAsync(fixture, user, campaign.Id, 11);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.InRange(retryAfter, 1, 2);
        Assert.Equal("3", headers["RateLimit-Limit"]);
        Assert.Equal("0", headers["RateLimit-Remaining"]);

        await Task.Delay(TimeSpan.FromSeconds(retryAfter) + TimeSpan.FromMilliseconds(200));
        Assert.Equal(HttpStatusCode.Created, (await replicas[1].PostAsync($"/api/campaigns/{campaign.Id}/holds", new { seats = new[] { 12 } })).Status);

        // Another user is not affected.
        var other = await fixture.NewCustomerAsync();
        Assert.Equal(HttpStatusCode.Created, (await other.HoldSeatsAsync(campaign.Id, 13)).Status);
    }

    [Fact]
    public Task A_bucket_left_in_the_older_hash_form_is_read_as_full_and_rewritten_as_a_string() =>
        // Buckets were Redis hashes before they became strings, and a deploy meets hashes until they expire. One that
        // says "no tokens left" reads as missing (a full bucket) and is replaced: never a WRONGTYPE error.
        AnOlderBucketReadsAsFullAsync(async (db, key) =>
        {
            await db.HashSetAsync(key, [new("t", "0"), new("ts", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())]);
            await db.KeyExpireAsync(key, TimeSpan.FromMinutes(1));
        });

    [Fact]
    public Task A_bucket_left_in_the_older_decimal_form_is_read_as_full_and_rewritten() =>
        // Before buckets were integers they were "<tokens>:<ms>" with a fraction. One that says "no tokens left" reads
        // as a full bucket (as a restarted Redis starts them) and is rewritten in the current form.
        AnOlderBucketReadsAsFullAsync((db, key) =>
            db.StringSetAsync(key, $"0.000000:{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}", TimeSpan.FromMinutes(1)));

    /// <summary>A user whose hold bucket was left by <paramref name="seed"/> holds, and the bucket is rewritten: 3 tokens, one taken.</summary>
    private async Task AnOlderBucketReadsAsFullAsync(Func<IDatabase, string, Task> seed)
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10, perUserLimit: 10);
        var userId = Guid.NewGuid();
        var user = fixture.MintCustomer(userId);
        var key = $"ts:{{{campaign.Id:N}}}:rl:u:{userId}";
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var db = redis.GetDatabase();
        await seed(db, key);

        Assert.Equal(HttpStatusCode.Created, (await user.HoldSeatsAsync(campaign.Id, 0)).Status);
        Assert.Equal(RedisType.String, await db.KeyTypeAsync(key));
        // A few milliseconds' refill at most.
        Assert.InRange(await TokensAsync(db, key), 2, 2.01);
    }

    [Fact]
    public async Task Rate_limit_buckets_stay_out_of_redis_append_only_log_while_the_hold_is_in_it()
    {
        // Buckets are written with replication off: a restarted Redis starts them full, and the log does not carry two
        // writes of every hold. The hold itself must be there, or a restart would lose it.
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10, perUserLimit: 10);
        var userId = Guid.NewGuid();
        var user = fixture.MintCustomer(userId);
        var hold = await user.HoldSeatsAsync(campaign.Id, 3);
        Assert.Equal(HttpStatusCode.Created, hold.Status);
        var bucket = $"ts:{{{campaign.Id:N}}}:rl:u:{userId}";
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        Assert.True(await redis.GetDatabase().KeyExistsAsync(bucket));

        // Redis writes its log before it answers, but may put a write off while an fsync is running: read the log until
        // the hold shows, then look for the bucket in the same text.
        var holdKey = $"ts:{{{campaign.Id:N}}}:hold:{hold.HoldId!.Value:N}";
        var log = "";
        for (var attempt = 0; attempt < 50 && !log.Contains(holdKey, StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(100);
            log = await AppendOnlyLogAsync();
        }

        Assert.Contains(holdKey, log, StringComparison.Ordinal);
        Assert.DoesNotContain(bucket, log, StringComparison.Ordinal);
    }

    private async Task<string> AppendOnlyLogAsync()
    {
        var folder = Path.Combine(fixture.App.StateDirectory, "cache", "appendonlydir");
        var text = new System.Text.StringBuilder();
        foreach (var file in Directory.GetFiles(folder, "*.aof"))
        {
            // Redis appends while this reads: share the file.
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
            text.Append(await reader.ReadToEndAsync());
        }

        return text.ToString();
    }

    /// <summary>A bucket's tokens: "&lt;millionths of a token&gt;/&lt;ms&gt;".</summary>
    private static async Task<double> TokensAsync(IDatabase db, string key)
    {
        var parts = ((string)(await db.StringGetAsync(key))!).Split('/');
        Assert.Equal(2, parts.Length);
        return long.Parse(parts[0], CultureInfo.InvariantCulture) / 1_000_000.0;
    }

    [Fact]
    public async Task Purchases_have_a_limit_of_their_own_through_the_gateway()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10, perUserLimit: 10);
        var user = await fixture.NewCustomerAsync();
        var holds = new List<Guid>();
        for (var seat = 0; seat < 3; seat++)
        {
            holds.Add((await user.HoldSeatsAsync(campaign.Id, seat)).HoldId!.Value);
            await Task.Delay(TimeSpan.FromSeconds(2.1)); // stay within the hold limit
        }

        var answers = new List<HttpStatusCode>();
        var keys = holds.Select(_ => Guid.NewGuid().ToString("N")).ToList();
        for (var i = 0; i < holds.Count; i++)
        {
            answers.Add((await user.PurchaseAsync(campaign.Id, holds[i], keys[i])).Status);
        }

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], answers);

        // A refusal is not the key's answer: the same request with the same key, once the bucket has a token again
        // (one every 4 s), is accepted, not replayed as 429.
        await Task.Delay(TimeSpan.FromSeconds(4.2));
        var retried = await user.PurchaseAsync(campaign.Id, holds[2], keys[2]);
        Assert.Equal(HttpStatusCode.Accepted, retried.Status);
        Assert.NotNull(retried.PurchaseId);
    }

    [Fact]
    public async Task One_client_address_is_limited_across_users_and_other_addresses_are_not()
    {
        // Documentation addresses (RFC 5737) in X-Forwarded-For: the Api believes it from a loopback proxy only.
        var first = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            first.Add(await ReadFromAsync("198.51.100.7", i % 2));
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), HttpStatusCode.TooManyRequests], first);
        Assert.Equal(HttpStatusCode.OK, await ReadFromAsync("198.51.100.8", 0));
    }

    [Fact]
    public async Task An_ipv6_client_is_limited_by_its_slash_64_not_by_each_of_its_addresses()
    {
        // Documentation addresses (RFC 3849): rotating through the host part of one /64 buys no new budget.
        var first = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            first.Add(await ReadFromAsync($"2001:db8:7:1::{i + 1:x}", i % 2));
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), HttpStatusCode.TooManyRequests], first);
        Assert.Equal(HttpStatusCode.OK, await ReadFromAsync("2001:db8:7:2::1", 0));
    }

    /// <summary>A read at one Api replica as forwarded by a proxy for <paramref name="address"/>.</summary>
    private async Task<HttpStatusCode> ReadFromAsync(string address, int replica)
    {
        using var http = fixture.App.CreateHttpClient("api", replica);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/campaigns");
        request.Headers.Add("X-Forwarded-For", address);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Waiting_room_joins_and_polls_have_a_budget_per_address_and_campaign_apart_from_other_reads()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 100,
            opensAt: DateTimeOffset.UtcNow.AddSeconds(-1), waitingRoom: true, admissionsPerSecond: 0.1, paceByStock: false);
        var other = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 100,
            opensAt: DateTimeOffset.UtcNow.AddSeconds(-1), waitingRoom: true, admissionsPerSecond: 0.1, paceByStock: false);
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // the pump opens the rooms
        var visitor = fixture.MintCustomer(Guid.NewGuid());

        // Five tokens for the address, taken by a join and polls at the gateway, which answers the waiting room (the
        // bucket is in Redis, so a second gateway would share it).
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add((await WaitingRoomAsync(i == 0 ? HttpMethod.Post : HttpMethod.Get, campaign.Id, visitor, "198.51.100.20")).Status);
        }

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));
        var refused = await WaitingRoomAsync(HttpMethod.Get, campaign.Id, visitor, "198.51.100.20");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal("application/problem+json", refused.ContentType);
        Assert.InRange(int.Parse(refused.Headers["Retry-After"], CultureInfo.InvariantCulture), 1, 2);
        Assert.Equal("5", refused.Headers["RateLimit-Limit"]);
        Assert.Equal("0", refused.Headers["RateLimit-Remaining"]);

        // Not the address's other reads, not another campaign's room, not another address.
        using (var http = fixture.App.CreateHttpClient("api", 0))
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/campaigns"))
        {
            request.Headers.Add("X-Forwarded-For", "198.51.100.20");
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await WaitingRoomAsync(HttpMethod.Post, other.Id, visitor, "198.51.100.20")).Status);
        Assert.Equal(HttpStatusCode.OK, (await WaitingRoomAsync(HttpMethod.Get, campaign.Id, visitor, "198.51.100.21")).Status);
    }

    private async Task<(HttpStatusCode Status, string? ContentType, Dictionary<string, string> Headers)> WaitingRoomAsync(
        HttpMethod method, Guid campaign, ApiClient visitor, string address)
    {
        using var http = fixture.App.CreateHttpClient("web");
        using var request = new HttpRequestMessage(method, $"/api/campaigns/{campaign}/waiting-room");
        request.Headers.Add("X-Forwarded-For", address);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", visitor.AccessToken);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType,
            response.Headers.ToDictionary(h => h.Key, h => h.Value.First(), StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_browser_session_outlives_its_access_token_by_refreshing_it()
    {
        var customer = await fixture.NewCustomerAsync();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = fixture.Web };
        using var login = await browser.PostAsJsonAsync("/bff/login", new { email = customer.Email, password = "a long enough password" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/orders")).StatusCode);

        // Access tokens live 10 s here (5 s of clock skew allowed): past that, only a refreshed one gets through.
        await Task.Delay(TimeSpan.FromSeconds(16));
        Assert.Equal(HttpStatusCode.Unauthorized, (await customer.GetAsync("/api/orders")).Status); // a token of the same age
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/orders")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/orders")).StatusCode);
    }

    private ApiClient Direct(ApiClient user, int replica) => new(new HttpClient(), fixture.App.GetEndpoint("api", replica), user.AccessToken);

    private static async Task<(HttpStatusCode Status, int RetryAfter, Dictionary<string, string> Headers)> HoldWithHeadersAsync(
        SaleFixture fixture, ApiClient user, Guid campaign, int seat)
    {
        using var http = new HttpClient { BaseAddress = fixture.Web };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign}/holds") { Content = System.Net.Http.Json.JsonContent.Create(new { seats = new[] { seat } }) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await http.SendAsync(request);
        var headers = response.Headers.ToDictionary(h => h.Key, h => h.Value.First(), StringComparer.OrdinalIgnoreCase);
        return (response.StatusCode, int.Parse(headers.GetValueOrDefault("Retry-After", "0"), CultureInfo.InvariantCulture), headers);
    }
}
