using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Npgsql;
using TicketSale.Testing;

namespace TicketSale.Bench;

/// <summary>
/// The system under test, started here through Aspire's test host from the AppHost's Program.cs: fresh state, rate
/// limits set out of the load's way (every request comes from one loopback address).
/// </summary>
public sealed class BenchTarget : IAsyncDisposable
{
    private static readonly (string Class, string[] Buckets)[] s_rateLimitBuckets =
        [("auth", ["PerIp"]), ("holds", ["PerUser", "PerIp"]), ("purchases", ["PerUser", "PerIp"]), ("reads", ["PerIp"]), ("lookups", ["PerUser", "PerIp"]), ("waitingroom", ["PerIp"])];

    private static readonly string[] s_gatewayAddressLimits = ["SignInBurst", "SignInPerSecond", "WaitingRoomBurst", "WaitingRoomPerSecond"];

    /// <summary>The Api, and the gateway, which answers the waiting room.</summary>
    private static readonly string[] s_rateLimitedServices = ["api", "web"];

    private readonly TicketSaleApp _app;
    private readonly string _stateDirectory;

    private BenchTarget(TicketSaleApp app, string stateDirectory, Uri web, IReadOnlyList<Uri> apis, Uri worker, Uri payments,
        string postgres, string redis, string adminPassword, string jwtKey, string paymentsKey, string managementKey)
    {
        _app = app;
        _stateDirectory = stateDirectory;
        Web = web;
        Apis = apis;
        Worker = worker;
        Payments = payments;
        Postgres = postgres;
        Redis = redis;
        JwtKey = jwtKey;
        PaymentsKey = paymentsKey;
        Http = NewClient(256);
        Admin = new AdminSession(Http, web, adminPassword);
        PaymentsHttp = NewClient(16);
        PaymentsHttp.BaseAddress = payments;
        PaymentsHttp.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", paymentsKey);
        OperatorHttp = NewClient(16);
        OperatorHttp.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", managementKey);
    }

    /// <summary>The gateway: the front door buyers use.</summary>
    public Uri Web { get; }

    /// <summary>Each Api replica, for the hot-path runs that measure the endpoint itself.</summary>
    public IReadOnlyList<Uri> Apis { get; }

    /// <summary>The Worker's own endpoint: health and <c>/metrics</c>.</summary>
    public Uri Worker { get; }

    public Uri Payments { get; }

    public string Postgres { get; }

    public string Redis { get; }

    /// <summary>The seeded admin, set up (password changed, authenticator enrolled) on first use.</summary>
    public AdminSession Admin { get; }

    public string JwtKey { get; }

    /// <summary>The payment gateway's API key: the baseline server charges with it too.</summary>
    public string PaymentsKey { get; }

    /// <summary>The payment gateway's own API (the ledger and its settings), with the key.</summary>
    public HttpClient PaymentsHttp { get; }

    /// <summary>For the services' <c>/metrics</c>: bears the management key.</summary>
    public HttpClient OperatorHttp { get; }

    /// <summary>For set-up and checks; the load has clients of its own, sized to their concurrency.</summary>
    public HttpClient Http { get; }

    public string Description => $"started by the bench through Aspire's test host (state {_stateDirectory})";

    public static async Task<BenchTarget> StartAsync(CancellationToken cancellationToken)
    {
        var app = await TicketSaleApp.StartAsync(builder =>
        {
            builder.CreateResourceBuilder<ProjectResource>("api").WithEnvironment("RateLimits__LocalPerIpPerSecond", "1000000");
            var web = builder.CreateResourceBuilder<ProjectResource>("web");
            foreach (var setting in s_gatewayAddressLimits)
            {
                web.WithEnvironment($"Gateway__AddressLimits__{setting}", "1000000");
            }

            foreach (var service in s_rateLimitedServices.Select(builder.CreateResourceBuilder<ProjectResource>))
            {
                foreach (var (limitClass, buckets) in s_rateLimitBuckets)
                {
                    foreach (var bucket in buckets)
                    {
                        service.WithEnvironment($"RateLimits__Classes__{limitClass}__{bucket}__Capacity", "1000000")
                            .WithEnvironment($"RateLimits__Classes__{limitClass}__{bucket}__PerSecond", "1000000");
                    }
                }
            }
        },
        // The configuration a deployment runs: Development adds the developer exception page and DI scope validation
        // on every resolve: about a tenth of the Api's CPU per hold (`./bench.sh --scenarios hot`, both ways).
        environment: "Production",
        // The hot path places over a million holds, which the bench's 20-minute hold time keeps: by the limits scenario
        // Redis held 1 GB, the default ceiling, and refused redis-benchmark's writes (OOM in a full `./bench.sh`).
        settings: ["TicketSale:RedisMaxMemory=8gb"], cancellationToken: cancellationToken);
        var apis = Enumerable.Range(0, app.ReplicaCount("api")).Select(i => app.GetEndpoint("api", i)).ToList();
        return new BenchTarget(app, app.StateDirectory, app.GetEndpoint("web"), apis, app.GetEndpoint("worker"), app.GetEndpoint("payments"),
            app.GetConnectionString("tickets"), app.GetConnectionString("cache"), app.GetParameterValue("admin-password"), app.GetParameterValue("token-signing-key"),
            app.GetParameterValue("payments-key"), app.GetParameterValue("management-key"));
    }

    /// <summary>A client for one load run: as many connections as the run has workers, none of them recycled mid-run.</summary>
    public static HttpClient NewClient(int connections) => new(NewHandler(connections)) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// For the hot path's closed loops, which the load's own cancellation ends: an <see cref="HttpClient"/> links a
    /// cancellation source to each request and starts a timer for its timeout, per request, in the client that
    /// shares the two cores with the system it measures.
    /// </summary>
    public static HttpMessageInvoker NewInvoker(int connections) => new(NewHandler(connections));

    private static SocketsHttpHandler NewHandler(int connections) => new()
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>
    /// The process id of each service (for resident-memory sampling) or, with <paramref name="everything"/>, of every
    /// resource, the backing servers named for what they are.
    /// </summary>
    public IReadOnlyDictionary<string, int> ProcessIds(bool everything = false)
    {
        var ids = new Dictionary<string, int>();
        string[] services = ["api-0", "api-1", "worker", "web"];
        foreach (var name in everything ? [.. services, "payments", "cache", "postgres", "messaging"] : services)
        {
            var replica = name.StartsWith("api-", StringComparison.Ordinal) ? int.Parse(name[4..], System.Globalization.CultureInfo.InvariantCulture) : 0;
            var resource = name.StartsWith("api-", StringComparison.Ordinal) ? "api" : name;
            int? pid = _app.GetServiceProcessId(resource, replica);
            if (pid is { } id)
            {
                ids[name switch { "cache" => "redis", "messaging" => "rabbitmq", "postgres" => "postgresql", _ => name }] = id;
            }
        }

        return ids;
    }

    /// <summary>
    /// Freezes the Worker (SIGSTOP) so that a backlog builds up, and <see cref="ResumeWorker"/> lets it go on. A frozen
    /// process keeps its compiled code; a stopped and restarted one starts cold: in the confirmation scenario the
    /// restarted Worker spent 17% of its CPU in the JIT through the measured window (perf record during the scenario).
    /// </summary>
    public void PauseWorker() => Signal("worker", SignalStop);

    public void ResumeWorker() => Signal("worker", SignalContinue);

    /// <summary>Crashes one replica of a resource (SIGKILL of its process tree), as the chaos scenario does; the AppHost restarts it.</summary>
    public Task KillAsync(string resource, int replica = 0) =>
        _app.KillResourceAsync(resource, replica);

    /// <summary>Freezes a resource's process (SIGSTOP), as a stalled server or a long pause would; <see cref="Thaw"/> lets it go on.</summary>
    public void Freeze(string resource) => Signal(resource, SignalStop);

    public void Thaw(string resource) => Signal(resource, SignalContinue);

    /// <summary>Whether the AppHost reports the replica running and healthy (after a restart, once its probe passed).</summary>
    public bool IsRunning(string resource, int replica = 0) => _app.IsHealthy(resource, replica);

    /// <summary>Takes the payment gateway down (every call answers 503), or brings it back.</summary>
    public async Task SetPaymentOutageAsync(bool outage)
    {
        using var response = await PaymentsHttp.PutAsJsonAsync("/simulator", new { latencyMs = 0, failureRate = 0.0, outage });
        response.EnsureSuccessStatusCode();
    }

    private const int SignalStop = 19;
    private const int SignalContinue = 18;

    private void Signal(string resource, int signal)
    {
        var pid = _app.GetServiceProcessId(resource) ?? throw new InvalidOperationException($"{resource} is not running.");
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"Could not signal {resource} (pid {pid}): errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>
    /// A customer's access token signed here with the Api's key: fifty thousand buyers without fifty thousand password
    /// hashes, which would measure PBKDF2 rather than the sale. The Api cannot tell it from one it issued.
    /// </summary>
    public string MintCustomerToken(Guid userId, TimeSpan lifetime) => AccessTokens.MintCustomer(JwtKey, userId, lifetime);

    public async Task<JsonNode> AdminAsync(HttpMethod method, string path, object? body)
    {
        var token = await Admin.AccessTokenAsync();
        using var request = new HttpRequestMessage(method, new Uri(Web, path)) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {text}");
        }

        return JsonNode.Parse(text.Length == 0 ? "{}" : text)!;
    }

    /// <summary>
    /// A campaign on sale now, or from <paramref name="opensAt"/> (its waiting room takes visitors into the pre-queue
    /// until then): optionally a venue of <paramref name="rows"/> × 100 seats, optionally general admission.
    /// </summary>
    public async Task<BenchCampaign> NewCampaignAsync(string name, int rows, int generalAdmission, int perUserLimit, int holdSeconds,
        bool waitingRoom = false, double admissionsPerSecond = 50, DateTimeOffset? opensAt = null)
    {
        Guid? venueId = null;
        if (rows > 0)
        {
            var venue = await AdminAsync(HttpMethod.Post, "/api/admin/venues", new
            {
                name = $"{name} hall",
                sections = new[] { new { name = "Main", priceCategory = "standard", rows, seatsPerRow = 100 } },
            });
            venueId = Guid.Parse((string)venue["id"]!);
        }

        var now = DateTimeOffset.UtcNow;
        var created = await AdminAsync(HttpMethod.Post, "/api/admin/campaigns", new
        {
            name = $"{name} {now:HHmmss}",
            venueId,
            eventAt = now.AddDays(30),
            saleOpensAt = opensAt ?? now.AddMinutes(-1),
            saleClosesAt = now.AddDays(1),
            perUserLimit,
            cancellationAllowed = false,
            holdSeconds,
            waitingRoomEnabled = waitingRoom,
            admissionsPerSecond,
            paceAdmissionsByStock = true,
            prices = new[] { new { category = "standard", priceCents = 4200L } },
            generalAdmission = generalAdmission > 0 ? new[] { new { name = "Floor", capacity = generalAdmission, priceCents = 1500L } } : [],
        });
        var id = Guid.Parse((string)created["id"]!);
        await AdminAsync(HttpMethod.Post, $"/api/admin/campaigns/{id}/publish", null);
        await AdminAsync(HttpMethod.Post, $"/api/admin/campaigns/{id}/open", null);
        var ga = ((JsonArray)created["generalAdmission"]!).Select(g => Guid.Parse((string)g!["id"]!)).FirstOrDefault();
        return new BenchCampaign(id, rows * 100, ga == Guid.Empty ? null : ga, generalAdmission);
    }

    public Task<long> ScalarAsync(string sql, params object[] parameters) =>
        WhilePostgresComesBackAsync(() => DatabaseQueries.ScalarAsync(Postgres, sql, parameters));

    public Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] parameters) =>
        WhilePostgresComesBackAsync(() => DatabaseQueries.QueryAsync(Postgres, sql, read, parameters));

    /// <summary>
    /// The bench's own reads survive a PostgreSQL restart (the chaos scenario kills it): a transient failure empties
    /// the pool of its dead connections and asks again, for up to two minutes.
    /// </summary>
    private static async Task<T> WhilePostgresComesBackAsync<T>(Func<Task<T>> query)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                return await query();
            }
            catch (NpgsqlException ex) when (ex.IsTransient && DateTime.UtcNow < deadline)
            {
                NpgsqlConnection.ClearAllPools();
                await Task.Delay(500);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        PaymentsHttp.Dispose();
        OperatorHttp.Dispose();
        Admin.Dispose();
        await _app.DisposeAsync();
    }
}

public sealed record BenchCampaign(Guid Id, int Seats, Guid? GeneralAdmissionId, int GeneralAdmissionCapacity);
