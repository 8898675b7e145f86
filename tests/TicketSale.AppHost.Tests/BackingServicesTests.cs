using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using StackExchange.Redis;

namespace TicketSale.AppHost.Tests;

/// <summary>The whole application from Program.cs, against the real servers it starts.</summary>
public sealed class BackingServicesTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private TicketSaleApp App => fixture.App;

    [Theory]
    [InlineData("cache")]
    [InlineData("postgres")]
    [InlineData("tickets")]
    [InlineData("messaging")]
    [InlineData("api")]
    [InlineData("worker")]
    [InlineData("web")]
    public async Task Every_resource_becomes_healthy(string resource)
    {
        await App.App.ResourceNotifications.WaitForResourceHealthyAsync(resource).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void The_state_folder_is_its_owners_alone_and_files_holding_secrets_were_made_so()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, new DirectoryInfo(App.StateDirectory).UnixFileMode);
        foreach (var file in new[] { "secrets.json", Path.Combine("cache", "users.acl") })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(App.StateDirectory, file)));
        }

        // Redis's user file holds password hashes, never the passwords.
        var acl = File.ReadAllText(Path.Combine(App.StateDirectory, "cache", "users.acl"));
        Assert.DoesNotContain(App.GetParameterValue("cache-api-password"), acl, StringComparison.Ordinal);
        Assert.Contains("user ticketsale-api on #", acl, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api", 0, new[] { "cache", "tickets", "messaging" })]
    [InlineData("api", 1, new[] { "cache", "tickets", "messaging" })]
    [InlineData("worker", 0, new[] { "cache", "tickets", "messaging" })]
    [InlineData("web", 0, new[] { "api" })]
    public async Task Services_report_ready_only_with_their_dependencies_checked(string resource, int replica, string[] dependencies)
    {
        using var client = App.CreateOperatorClient(resource, replica);

        using var response = await client.GetAsync(new Uri("/health", UriKind.Relative));
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var checks = report.RootElement.GetProperty("checks");
        foreach (var dependency in dependencies)
        {
            Assert.Equal("Healthy", checks.GetProperty(dependency).GetProperty("status").GetString());
        }

        using var alive = await client.GetAsync(new Uri("/alive", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Theory]
    [InlineData("worker", 10)]
    [InlineData("api", 0)]
    [InlineData("web", 0)]
    [InlineData("payments", 0)]
    [InlineData("cache", -10)]
    [InlineData("postgres-replica", 10)]
    public void Each_resource_runs_at_its_cpu_priority_the_worker_and_the_standby_last_and_redis_first(string resource, int nice)
    {
        // A higher priority needs root (or CAP_SYS_NICE); without it the resource runs at the default.
        if (nice < 0 && !Environment.IsPrivilegedProcess)
        {
            nice = 0;
        }

        var pid = ServiceProcess(resource);

        // /proc/<pid>/stat: the command name may hold spaces; the niceness is the 17th field after it.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        Assert.Equal(nice, int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture));

        // Where the kernel schedules sessions as groups, niceness only orders processes within a group: every
        // resource must share the Api's.
        if (File.Exists("/proc/sys/kernel/sched_autogroup_enabled") && File.ReadAllText("/proc/sys/kernel/sched_autogroup_enabled").Trim() == "1")
        {
            static string Group(int pid) => File.ReadAllText($"/proc/{pid}/autogroup").Split(' ')[0];
            Assert.Equal(Group(ServiceProcess("api")), Group(pid));
        }
    }

    private int ServiceProcess(string resource) => App.GetServiceProcessId(resource)!.Value;

    [Fact]
    public async Task Services_expose_a_prometheus_scrape_endpoint()
    {
        using var client = App.CreateOperatorClient("api");
        await client.GetAsync(new Uri("/api/instance", UriKind.Relative));

        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Contains("http_server_request_duration_seconds", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_seeded_admins_generated_password_opens_nothing_until_the_admin_changes_it()
    {
        using var web = App.CreateHttpClient("web");
        using var response = await web.PostAsJsonAsync(new Uri("/api/auth/login", UriKind.Relative),
            new { email = "admin@ticketsale.local", password = App.GetParameterValue("admin-password") });
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("password-change-required", body, StringComparison.Ordinal);
        Assert.DoesNotContain("accessToken", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_holding_secrets_are_readable_by_their_owner_only()
    {
        foreach (var file in new[] { "secrets.json", Path.Combine("messaging", "rabbitmq.conf") })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(App.StateDirectory, file)));
        }

        Assert.Empty(Directory.EnumerateFiles(App.StateDirectory, "*.new", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Postgres_answers_with_the_injected_credentials_and_refuses_a_wrong_password()
    {
        var connectionString = App.GetConnectionString("tickets");

        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT current_database() || '/' || current_user", connection);
            Assert.Equal("tickets/postgres", await command.ExecuteScalarAsync());
        }

        var wrong = new NpgsqlConnectionStringBuilder(connectionString) { Password = "wrong-password", Pooling = false };
        await using var refused = new NpgsqlConnection(wrong.ConnectionString);
        var error = await Assert.ThrowsAsync<PostgresException>(() => refused.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, error.SqlState);
    }

    [Fact]
    public async Task Redis_answers_with_the_injected_credentials_and_refuses_a_wrong_password()
    {
        var options = ConfigurationOptions.Parse(App.GetConnectionString("cache"));
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(options))
        {
            var db = redis.GetDatabase();
            await db.StringSetAsync("foundation:probe", "hello");
            Assert.Equal("hello", (string?)await db.StringGetAsync("foundation:probe"));
        }

        foreach (var password in new[] { "wrong-password", null })
        {
            var refused = options.Clone();
            refused.Password = password;
            refused.AbortOnConnectFail = true;
            refused.ConnectRetry = 0;
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync(refused));
            Assert.Equal(ConnectionFailureType.AuthenticationFailure, error.FailureType);
        }
    }

    [Fact]
    public async Task RabbitMQ_answers_with_the_injected_credentials_and_refuses_a_wrong_password_and_guest()
    {
        var uri = new Uri(App.GetConnectionString("messaging"));
        await using (var connection = await new ConnectionFactory { Uri = uri }.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            var queue = await channel.QueueDeclareAsync(exclusive: true);
            await channel.BasicPublishAsync("", queue.QueueName, Encoding.UTF8.GetBytes("hello"));
            BasicGetResult? message = null;
            for (var i = 0; i < 50 && message is null; i++)
            {
                message = await channel.BasicGetAsync(queue.QueueName, autoAck: true);
                await Task.Delay(20);
            }

            Assert.Equal("hello", Encoding.UTF8.GetString(message!.Body.Span));
        }

        foreach (var (user, password) in new[] { (Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]), "wrong-password"), ("guest", "guest") })
        {
            var factory = new ConnectionFactory { HostName = uri.Host, Port = uri.Port, UserName = user, Password = password };
            await Assert.ThrowsAsync<BrokerUnreachableException>(() => factory.CreateConnectionAsync());
        }
    }

    [Fact]
    public async Task RabbitMQ_management_ui_is_on_and_guest_is_refused()
    {
        var uri = new Uri(App.GetConnectionString("messaging"));
        using var client = App.CreateHttpClient("messaging");

        Assert.Equal(HttpStatusCode.OK, await GetOverviewAsync(client, uri.UserInfo));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetOverviewAsync(client, "guest:guest"));
    }

    [Fact]
    public async Task A_restarted_redis_keeps_its_data_and_the_services_reconnect()
    {
        var options = ConfigurationOptions.Parse(App.GetConnectionString("cache"));
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(options))
        {
            await redis.GetDatabase().StringSetAsync("foundation:durable", "kept");
        }

        var before = App.GetProcessId("cache");
        await App.RestartResourceAsync("cache");

        Assert.NotEqual(before, App.GetProcessId("cache"));
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(options))
        {
            Assert.Equal("kept", (string?)await redis.GetDatabase().StringGetAsync("foundation:durable"));
        }

        using var api = App.CreateHttpClient("api");
        await Eventually.SucceedsAsync(async () =>
        {
            using var response = await api.GetAsync(new Uri("/health", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }, TimeSpan.FromSeconds(20));
    }

    private static async Task<HttpStatusCode> GetOverviewAsync(HttpClient client, string userInfo)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/overview", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(userInfo))));
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
