using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using RabbitMQ.Client;
using StackExchange.Redis;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;

namespace TicketSale.Sales.Tests;

/// <summary>
/// The whole application from the AppHost's Program.cs, with a short purchase deadline so that the tests can watch
/// purchases fail cleanly, and quick reconciliation so that a flushed Redis is rebuilt within the test.
/// </summary>
public class SaleFixture : IAsyncLifetime
{
    public static readonly TimeSpan PurchaseDeadline = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How far the PostgreSQL standby may trail and still be read: long enough for a test to buy and read within it
    /// with replay paused, short enough to wait out.
    /// </summary>
    public static readonly TimeSpan ReplicaMaxLag = TimeSpan.FromSeconds(20);

    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    public TicketSaleApp App { get; private set; } = null!;

    public Uri Web { get; private set; } = null!;

    public ApiClient Admin { get; private set; } = null!;

    /// <summary>Unpooled: the tests restart PostgreSQL, and a pooled connection would outlive its server.</summary>
    public string TicketsConnectionString => App.GetConnectionString("tickets") + ";Pooling=false";

    /// <summary>How long an admitted visitor counts against the stock; short, so a test can see it pass.</summary>
    public static TimeSpan ShoppingWindow { get; } = TimeSpan.FromSeconds(8);

    /// <summary>How many of a pre-queue come back per second after the opening; low, so a test's pre-queue spreads over seconds.</summary>
    public static int OpeningPollsPerSecond { get; } = 100;

    /// <summary>How long after the opening the pre-queue comes back at the latest; short, so a test's pre-queue reaches it.</summary>
    public static int PreQueueComebackSeconds { get; } = 10;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        App = await TicketSaleApp.StartAsync(builder =>
        {
            builder.CreateResourceBuilder<ProjectResource>("api").WithEnvironment("Sales__PurchaseDeadline", PurchaseDeadline.ToString());
            builder.Configuration["TicketSale:ReplicaMaxLag"] = ReplicaMaxLag.ToString();
            // The waiting room's settings and the rate limits are read by the Api and by the gateway, which answers
            // the waiting room itself.
            foreach (var service in new[] { "api", "web" }.Select(builder.CreateResourceBuilder<ProjectResource>))
            {
                service.WithEnvironment("WaitingRoom__ShoppingWindow", ShoppingWindow.ToString())
                    .WithEnvironment("WaitingRoom__OpeningPollsPerSecond", OpeningPollsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .WithEnvironment("WaitingRoom__PreQueueComebackSeconds", PreQueueComebackSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
                ConfigureRateLimits(service);
            }

            // The tests' own clients share the machine with the system (a deployment's clients do not), dozens of
            // parallel tests at once: a Worker yielding to them missed a 30-second wait for its reconciliation in one
            // clean-clone run. Its timed jobs are what these tests check, so it runs at the others' priority here; the
            // AppHost tests check the priority Program.cs gives it.
            // The purchase sweeper looks every second and fails a pending purchase 5 s past its deadline, so that the
            // tests can watch it decide what a lost message left behind.
            builder.CreateResourceBuilder<ProjectResource>("worker").WithEnvironment("Inventory__ReconcileInterval", "00:00:02").WithEnvironment("Process__Nice", "0")
                .WithEnvironment("Inventory__PurchaseSweepInterval", "00:00:01")
                .WithEnvironment("Inventory__PendingPurchaseGrace", "00:00:05")
                // Mail and webhooks are tried again after half a second, doubling; a webhook is dead-lettered after 4 failures.
                .WithEnvironment("Notifications__PollInterval", "00:00:00.200")
                .WithEnvironment("Notifications__FirstRetryDelay", "00:00:00.500")
                .WithEnvironment("Notifications__WebhookMaxAttempts", "4")
                .WithEnvironment("Notifications__CleanupInterval", "00:00:01")
                // A stopped mail sink's address still takes connections (the orchestrator's proxy) and says nothing.
                .WithEnvironment("Mail__Timeout", "00:00:03");
            ConfigureApp(builder);
        }, dashboard: WithDashboard, cancellationToken: timeout.Token);
        Web = App.GetEndpoint("web");
        AdminSession = new AdminSession(_http, Web, App.GetParameterValue("admin-password"));
        // Signs in again when its token is close to expiry, as a long-running client would.
        Admin = new ApiClient(_http, Web, null, AdminTokenAsync);
    }

    /// <summary>
    /// Every request of these tests comes from one loopback address and a few users, thousands a second: the limits
    /// are set out of their way here, and tested on their own with tight ones.
    /// </summary>
    protected virtual void ConfigureRateLimits(IResourceBuilder<ProjectResource> service)
    {
        foreach (var (limitClass, buckets) in new[] { ("auth", new[] { "PerIp" }), ("holds", new[] { "PerUser", "PerIp" }), ("purchases", new[] { "PerUser", "PerIp" }), ("reads", new[] { "PerIp" }), ("lookups", new[] { "PerUser", "PerIp" }), ("waitingroom", new[] { "PerIp" }) })
        {
            foreach (var bucket in buckets)
            {
                service.WithEnvironment($"RateLimits__Classes__{limitClass}__{bucket}__Capacity", "1000000")
                    .WithEnvironment($"RateLimits__Classes__{limitClass}__{bucket}__PerSecond", "1000000");
            }
        }

        foreach (var setting in new[] { "SignInBurst", "SignInPerSecond", "WaitingRoomBurst", "WaitingRoomPerSecond" })
        {
            service.WithEnvironment($"Gateway__AddressLimits__{setting}", "1000000");
        }
    }

    /// <summary>Whether Aspire's dashboard runs too (and receives the services' telemetry).</summary>
    protected virtual bool WithDashboard => false;

    /// <summary>What a fixture of its own adds to the application.</summary>
    protected virtual void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
    }

    public virtual async Task DisposeAsync()
    {
        _http.Dispose();
        AdminSession?.Dispose();
        await App.DisposeAsync();
    }

    public ApiClient Anonymous() => new(_http, Web, null);

    /// <summary>The seeded admin, set up (password changed, authenticator enrolled) on first use.</summary>
    public AdminSession AdminSession { get; private set; } = null!;

    public Task<string> AdminTokenAsync() => AdminSession.AccessTokenAsync();

    public async Task<ApiClient> SignInAsync(string email, string password)
    {
        using var response = await _http.PostAsJsonAsync(new Uri(Web, "/api/auth/login"), new { email, password });
        response.EnsureSuccessStatusCode();
        var tokens = await response.Content.ReadFromJsonAsync<JsonObject>();
        return new ApiClient(_http, Web, (string)tokens!["accessToken"]!);
    }

    /// <summary>The password of every customer <see cref="NewCustomerAsync"/> registers.</summary>
    public const string CustomerPassword = "a long enough password";

    public async Task<ApiClient> NewCustomerAsync()
    {
        var email = $"buyer-{Guid.NewGuid():N}@example.com";
        using var response = await _http.PostAsJsonAsync(new Uri(Web, "/api/auth/register"), new { email, password = CustomerPassword });
        response.EnsureSuccessStatusCode();
        // As the buyer would: the link from the confirmation mail, then signing in.
        using var verified = await _http.PostAsJsonAsync(new Uri(Web, "/api/auth/verify-email"), new { token = await Mailbox.VerificationTokenAsync(email) });
        verified.EnsureSuccessStatusCode();
        var customer = await SignInAsync(email, CustomerPassword);
        customer.Email = email;
        return customer;
    }

    /// <summary>An account the admin made door staff, signed in after the change (a token carries the role it was issued with).</summary>
    public async Task<ApiClient> NewDoorStaffAsync()
    {
        var account = await NewCustomerAsync();
        var id = (string)(await Admin.GetAsync($"/api/admin/users?email={Uri.EscapeDataString(account.Email!)}")).Body!["id"]!;
        var changed = await Admin.SendAsync(HttpMethod.Put, $"/api/admin/users/{id}/role", new { role = "staff" });
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        var staff = await SignInAsync(account.Email!, CustomerPassword);
        staff.Email = account.Email;
        return staff;
    }

    /// <summary>A confirmed order of the seats (in ascending order) for a new customer, and its tickets' ids and signed codes.</summary>
    public async Task<(ApiClient Buyer, Guid OrderId, IReadOnlyList<(Guid Id, string Code)> Tickets)> BuyTicketsAsync(Guid campaign, params int[] seats)
    {
        var buyer = await NewCustomerAsync();
        var (held, hold, _) = await buyer.HoldSeatsAsync(campaign, seats);
        Assert.Equal(HttpStatusCode.Created, held);
        var (accepted, purchase, _) = await buyer.PurchaseAsync(campaign, hold!.Value);
        Assert.Equal(HttpStatusCode.Accepted, accepted);
        Assert.Equal("Confirmed", (await WaitForOutcomesAsync([purchase!.Value], TimeSpan.FromSeconds(30)))[purchase.Value]);
        var order = (await buyer.GetAsync($"/api/orders/{purchase}")).Body!;
        var tickets = new List<(Guid, string)>();
        // In the order of the seats asked for.
        foreach (var ticket in order["tickets"]!.AsArray().OrderBy(t => (int?)t!["seatIndex"]))
        {
            var pass = await buyer.GetAsync($"/api/orders/{purchase}/tickets/{ticket!["id"]}");
            Assert.Equal(HttpStatusCode.OK, pass.Status);
            tickets.Add((Guid.Parse((string)ticket["id"]!), (string)pass.Body!["code"]!));
        }

        return (buyer, purchase.Value, tickets);
    }

    /// <summary>
    /// A customer whose access token the test signs itself with the generated key the AppHost gave the Api: many
    /// visitors without many password hashes. The Api cannot tell it from a token it issued.
    /// </summary>
    /// <summary>The mail the Api sent (written to the state folder in a run).</summary>
    public Mailbox Mailbox => new(Path.Combine(App.StateDirectory, "mail"));

    public ApiClient MintCustomer(Guid userId, TimeSpan? lifetime = null) =>
        new(_http, Web, AccessTokens.MintCustomer(App.GetParameterValue("token-signing-key"), userId, lifetime ?? TimeSpan.FromMinutes(10)));

    public async Task<IReadOnlyList<ApiClient>> NewCustomersAsync(int count)
    {
        var customers = new List<ApiClient>();
        foreach (var chunk in Enumerable.Range(0, count).Chunk(8))
        {
            customers.AddRange(await Task.WhenAll(chunk.Select(_ => NewCustomerAsync())));
        }

        return customers;
    }

    /// <summary>A venue of one section, and a campaign selling it (and optionally general admission), on sale now.</summary>
    public async Task<Campaign> NewCampaignOnSaleAsync(int rows, int seatsPerRow, int perUserLimit = 4, int? generalAdmission = null,
        int? holdSeconds = null, bool cancellationAllowed = true, bool open = true, DateTimeOffset? opensAt = null,
        bool waitingRoom = false, double admissionsPerSecond = 50, bool paceByStock = true)
    {
        Guid? venueId = null;
        if (rows > 0)
        {
            var venue = await Admin.PostAsync("/api/admin/venues", new
            {
                name = "Hall " + Guid.NewGuid().ToString("N")[..6],
                sections = new[] { new { name = "Main", priceCategory = "standard", rows, seatsPerRow } },
            });
            Assert.Equal(HttpStatusCode.Created, venue.Status);
            venueId = Guid.Parse((string)venue.Body!["id"]!);
        }

        var now = DateTimeOffset.UtcNow;
        var created = await Admin.PostAsync("/api/admin/campaigns", new
        {
            name = "Campaign " + Guid.NewGuid().ToString("N")[..6],
            venueId,
            eventAt = now.AddDays(7),
            saleOpensAt = opensAt ?? now.AddMinutes(-1),
            saleClosesAt = now.AddDays(1),
            perUserLimit,
            cancellationAllowed,
            holdSeconds,
            waitingRoomEnabled = waitingRoom,
            admissionsPerSecond,
            paceAdmissionsByStock = paceByStock,
            prices = new[] { new { category = "standard", priceCents = 4200L } },
            generalAdmission = generalAdmission is { } capacity ? new[] { new { name = "Floor", capacity, priceCents = 1500L } } : [],
        });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = Guid.Parse((string)created.Body!["id"]!);
        if (open)
        {
            await ChangeCampaignAsync(HttpMethod.Post, $"/api/admin/campaigns/{id}/publish");
            await ChangeCampaignAsync(HttpMethod.Post, $"/api/admin/campaigns/{id}/open");
        }

        var ga = ((JsonArray)created.Body!["generalAdmission"]!).Select(g => Guid.Parse((string)g!["id"]!)).FirstOrDefault();
        return new Campaign(id, rows * seatsPerRow, ga == Guid.Empty ? null : ga);
    }

    /// <summary>
    /// An admin's change to a campaign, which must succeed. The other Api replica drops its cached copy when Redis
    /// delivers the change's announcement, milliseconds later (a busy machine made it later than a test's next
    /// request): like an admin who opens a sale before announcing it, this returns once every replica serves the
    /// campaign at the version the change gave it.
    /// </summary>
    public async Task<ApiResponse> ChangeCampaignAsync(HttpMethod method, string path, object? body = null)
    {
        var change = await Admin.SendAsync(method, path, body);
        Assert.True(change.Status == HttpStatusCode.OK, $"{method} {path}: {(int)change.Status} {change.Text}");
        var (id, version) = ((string)change.Body!["id"]!, (int)change.Body!["version"]!);
        if ((string)change.Body!["status"]! == "Draft")
        {
            return change; // not public: no replica serves it
        }

        // Reads from an address of their own, so that they use up no test's read budget.
        var address = $"2001:db8::{Random.Shared.Next(0x10000):x}:{Random.Shared.Next(0x10000):x}";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        for (var replica = 0; replica < App.ReplicaCount("api"); replica++)
        {
            using var http = App.CreateHttpClient("api", replica);
            while (true)
            {
                using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/campaigns/{id}");
                read.Headers.Add("X-Forwarded-For", address);
                using var response = await http.SendAsync(read);
                if (response.Headers.ETag?.Tag == $"\"v{version}\"")
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"api replica {replica} still serves campaign {id} as {(int)response.StatusCode} {response.Headers.ETag}, not version {version}");
                await Task.Delay(20);
            }
        }

        return change;
    }

    /// <summary>A new buyer holds two general-admission tickets of a new campaign and buys them; returns the confirmed purchase.</summary>
    public async Task<Guid> BuyConfirmedAsync()
    {
        var campaign = await NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10);
        var buyer = await NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 2);
        var (status, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold!.Value);
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("Confirmed", (await WaitForOutcomesAsync([purchase!.Value], TimeSpan.FromSeconds(30)))[purchase.Value]);
        return purchase.Value;
    }

    /// <summary>
    /// Waits until every purchase has an outcome (is no longer pending) in PostgreSQL, and returns the outcomes; while
    /// PostgreSQL is down, it waits for it too.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, string>> WaitForOutcomesAsync(IReadOnlyCollection<Guid> purchases, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            List<(Guid, string)> outcomes;
            try
            {
                outcomes = await QueryAsync("SELECT \"Id\", \"Status\" FROM \"Purchases\" WHERE \"Id\" = ANY($1) AND \"Status\" <> 'Pending'",
                    r => (r.GetGuid(0), r.GetString(1)), purchases.ToArray());
            }
            catch (NpgsqlException ex) when (ex.IsTransient && DateTime.UtcNow < deadline)
            {
                // PostgreSQL is down (a test crashed it; the AppHost is restarting it): ask again.
                await Task.Delay(250);
                continue;
            }

            if (outcomes.Count == purchases.Count || DateTime.UtcNow > deadline)
            {
                Assert.True(outcomes.Count == purchases.Count, $"{purchases.Count - outcomes.Count} of {purchases.Count} purchases have no outcome after {timeout}");
                return outcomes.ToDictionary(o => o.Item1, o => o.Item2);
            }

            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Waits until Redis has applied a confirmed order: the Worker tells Redis after PostgreSQL committed, so a test
    /// that reads the outcome from PostgreSQL can be a few milliseconds ahead of it.
    /// </summary>
    public async Task WaitForRedisToConfirmAsync(Guid campaign, Guid order)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(App.GetConnectionString("cache"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await redis.GetDatabase().HashGetAsync(SeatInventory.Prefix(campaign) + ":orders", order.ToString("N")) != "S")
        {
            Assert.True(DateTime.UtcNow < deadline, $"Redis did not apply the confirmation of order {order} within 30 s.");
            await Task.Delay(50);
        }
    }

    public Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] parameters) =>
        DatabaseQueries.QueryAsync(TicketsConnectionString, sql, read, parameters);

    public Task<long> ScalarAsync(string sql, params object[] parameters) => DatabaseQueries.ScalarAsync(TicketsConnectionString, sql, parameters);

    public PaymentSimulator Payments() => new(PaymentsClient());

    /// <summary>A client of the payment gateway with its API key, as the Api and the Worker call it.</summary>
    public HttpClient PaymentsClient()
    {
        var http = App.CreateHttpClient("payments");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", App.GetParameterValue("payments-key"));
        return http;
    }

    /// <summary>The values of the samples named <paramref name="name"/> (any labels) in a Prometheus scrape.</summary>
    public static IEnumerable<double> MetricSamples(string scrape, string name) =>
        scrape.Split('\n').Where(l => l.Split(' ', '{')[0] == name)
            .Select(l => double.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Puts purchase messages on the queue directly, as the Api would (persistent, confirmed).</summary>
    public async Task PublishAsync(params byte[][] bodies)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(App.GetConnectionString("messaging")) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        foreach (var body in bodies)
        {
            await channel.BasicPublishAsync(PurchaseTopology.Exchange, PurchaseTopology.Queue, mandatory: true, new BasicProperties { Persistent = true }, body);
        }
    }
}

/// <summary>The application with some limits of its own (environment settings of the Api and the gateway), for a test class.</summary>
public abstract class ConfiguredLimitsFixture(params (string Name, string Value)[] settings) : SaleFixture
{
    protected override void ConfigureRateLimits(IResourceBuilder<ProjectResource> service)
    {
        base.ConfigureRateLimits(service);
        foreach (var (name, value) in settings)
        {
            service.WithEnvironment(name, value);
        }
    }
}

public sealed record Campaign(Guid Id, int Seats, Guid? GeneralAdmissionId);

/// <summary>A signed-in (or anonymous) user of the API, through the Web gateway.</summary>
public sealed class ApiClient(HttpClient http, Uri baseAddress, string? accessToken, Func<Task<string>>? tokenSource = null)
{
    public string? Email { get; set; }

    public string? AccessToken => accessToken;

    public Task<ApiResponse> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<ApiResponse> PostAsync(string path, object? body, string? idempotencyKey = null) => SendAsync(HttpMethod.Post, path, body, idempotencyKey);

    public Task<ApiResponse> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, object? body, string? idempotencyKey = null, HttpContent? rawContent = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(baseAddress, path));
        if ((tokenSource is null ? accessToken : await tokenSource()) is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        request.Content = rawContent ?? (body is null ? null : JsonContent.Create(body));
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0 && (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) ?? false))
        {
            json = JsonNode.Parse(text);
        }

        return new ApiResponse(response.StatusCode, json, response.Content.Headers.ContentType?.MediaType, response.Headers.Location, text,
            response.Headers.TryGetValues("X-Served-By", out var servedBy) ? servedBy.First() : null);
    }

    public async Task<(HttpStatusCode Status, Guid? HoldId, JsonNode? Body)> HoldSeatsAsync(Guid campaign, params int[] seats)
    {
        var response = await PostAsync($"/api/campaigns/{campaign}/holds", new { seats });
        return (response.Status, response.Status == HttpStatusCode.Created ? Guid.Parse((string)response.Body!["holdId"]!) : null, response.Body);
    }

    public async Task<(HttpStatusCode Status, Guid? HoldId, JsonNode? Body)> HoldGeneralAdmissionAsync(Guid campaign, Guid category, int quantity)
    {
        var response = await PostAsync($"/api/campaigns/{campaign}/holds", new { generalAdmissionCategoryId = category, quantity });
        return (response.Status, response.Status == HttpStatusCode.Created ? Guid.Parse((string)response.Body!["holdId"]!) : null, response.Body);
    }

    public async Task<(HttpStatusCode Status, Guid? PurchaseId, ApiResponse Response)> PurchaseAsync(Guid campaign, Guid hold, string? key = null, string? promoCode = null)
    {
        var response = await PostAsync("/api/purchases", new { campaignId = campaign, holdId = hold, promoCode }, key ?? Guid.NewGuid().ToString("N"));
        return (response.Status, response.Status == HttpStatusCode.Accepted ? Guid.Parse((string)response.Body!["purchaseId"]!) : null, response);
    }

    /// <summary>The seats that are free now, from the compact seat map.</summary>
    public async Task<IReadOnlyList<int>> FreeSeatsAsync(Guid campaign)
    {
        var response = await GetAsync($"/api/campaigns/{campaign}/seats");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        var bitmap = Convert.FromBase64String((string)response.Body!["taken"]!);
        var count = (int)response.Body!["seatCount"]!;
        return Enumerable.Range(0, count).Where(s => (bitmap[s / 8] & (0x80 >> (s % 8))) == 0).ToList();
    }
}

/// <param name="ServedBy">The Api replica that answered (its <c>X-Served-By</c>), when one did.</param>
public sealed record ApiResponse(HttpStatusCode Status, JsonNode? Body, string? ContentType, Uri? Location, string Text, string? ServedBy = null);

public sealed class PaymentSimulator(HttpClient http) : IDisposable
{
    public async Task SetAsync(int latencyMs = 0, double failureRate = 0, bool outage = false, long overchargeCents = 0)
    {
        using var response = await http.PutAsJsonAsync("/simulator", new { latencyMs, failureRate, outage, overchargeCents });
        response.EnsureSuccessStatusCode();
    }

    public async Task<IReadOnlyList<JsonNode>> ChargesAsync() =>
        (await http.GetFromJsonAsync<JsonArray>("/simulator/charges"))!.Select(c => c!).ToList();

    public void Dispose() => http.Dispose();
}

[CollectionDefinition(Name)]
public sealed class SaleCollection : ICollectionFixture<SaleFixture>
{
    public const string Name = "sale";
}
