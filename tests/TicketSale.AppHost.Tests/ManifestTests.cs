using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StackExchange.Redis;
using TicketSale.AppHost.LocalServers;

namespace TicketSale.AppHost.Tests;

/// <summary>What operators get from publishing the AppHost: Aspire's manifest of the whole model.</summary>
public sealed partial class ManifestTests(PublishedManifest manifest) : IClassFixture<PublishedManifest>
{
    [Fact]
    public void Publishing_writes_the_whole_model_with_the_backing_services_as_official_containers()
    {
        var resources = manifest.Resources;
        string Type(string name) => (string)resources[name]!["type"]!;

        foreach (var (name, image) in new[] { ("cache", "redis"), ("postgres", "postgres"), ("messaging", "rabbitmq") })
        {
            Assert.Equal("container.v0", Type(name));
            Assert.Contains($"/{image}:", (string)resources[name]!["image"]!, StringComparison.Ordinal);
            Assert.NotNull(resources[name]!["connectionString"]);
        }

        Assert.Equal("{postgres.connectionString};Database=tickets", (string)resources["tickets"]!["connectionString"]!);
        // The published Redis keeps the sale's state as the local one does: a memory ceiling, and never evicting.
        Assert.Contains("--maxmemory-policy noeviction", resources["cache"]!["args"]!.ToJsonString(), StringComparison.Ordinal);
        foreach (var project in new[] { "migrations", "api", "worker", "web", "payments" })
        {
            Assert.Equal("project.v0", Type(project));
        }

        var api = resources["api"]!["env"]!;
        foreach (var (variable, value) in new[]
        {
            // The Api's own Redis user, not the default user.
            ("ConnectionStrings__cache", "{cache.bindings.tcp.host}:{cache.bindings.tcp.port},user=ticketsale-api,password={cache-api-password.value},tiebreaker=,configChannel="),
            // The Api's own database role, not the server's admin (which only the migration service gets).
            ("ConnectionStrings__tickets", "Host={postgres.bindings.tcp.host};Port={postgres.bindings.tcp.port};Username=ticketsale_api;Password={tickets-api-password.value};Database=tickets"),
            ("ConnectionStrings__messaging", "{messaging.connectionString}"),
            ("services__payments__http__0", "{payments.bindings.http.url}"),
            ("Auth__SigningKey", "{token-signing-key.value}"),
            ("Tickets__SigningKey", "{ticket-signing-key.value}"),
            ("Payments__ApiKey", "{payments-key.value}"),
            ("Management__Key", "{management-key.value}"),
        })
        {
            Assert.Equal(value, (string?)api[variable]);
        }

        Assert.Equal("{tickets.connectionString}", (string?)resources["migrations"]!["env"]!["ConnectionStrings__tickets"]);
        Assert.Equal("Host={postgres.bindings.tcp.host};Port={postgres.bindings.tcp.port};Username=ticketsale_worker;Password={tickets-worker-password.value};Database=tickets",
            (string?)resources["worker"]!["env"]!["ConnectionStrings__tickets"]);
        // It signs the codes of the tickets it mails; the gateway signs nothing.
        Assert.Equal("{ticket-signing-key.value}", (string?)resources["worker"]!["env"]!["Tickets__SigningKey"]);
        Assert.Null(resources["web"]!["env"]!["Tickets__SigningKey"]);
        Assert.Equal("{api.bindings.http.url}", (string?)resources["web"]!["env"]!["services__api__http__0"]);
        // The gateway checks access tokens with the public keys the Api publishes: it is given no signing key.
        Assert.Null(resources["web"]!["env"]!["Auth__SigningKey"]);
        Assert.True((bool)resources["web"]!["bindings"]!["http"]!["external"]!);

        // Secrets are inputs for the deployment to supply; no generated value or local path is published.
        foreach (var secret in new[] { "token-signing-key", "ticket-signing-key", "admin-password", "waiting-room-key", "payments-key", "management-key", "tickets-owner-password", "tickets-api-password", "tickets-worker-password", "dataprotection-certificate", "postgres-password", "cache-password", "cache-api-password", "cache-worker-password", "cache-web-password", "messaging-password" })
        {
            Assert.Equal("parameter.v0", Type(secret));
            Assert.True((bool)resources[secret]!["inputs"]!["value"]!["secret"]!);
        }

        var text = resources.ToJsonString();
        Assert.DoesNotContain("Ledger__Directory", text, StringComparison.Ordinal);
        Assert.DoesNotContain(".state", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(manifest.Folder, ".state")));
    }

    /// <summary>
    /// Runs the published Redis command line, with the machine's <c>redis-server</c> in place of the image's and the
    /// passwords a deployment would supply in the container's environment, then connects as each service does.
    /// </summary>
    [Fact]
    public async Task The_published_redis_gives_each_service_a_user_of_its_own_and_its_command_line_holds_no_password()
    {
        var cache = manifest.Resources["cache"]!;
        Assert.Equal("/bin/sh", (string?)cache["entrypoint"]);
        var args = cache["args"]!.AsArray().Select(a => (string)a!).ToList();
        Assert.Equal("-c", args[0]);
        var commandLine = args[1];
        Assert.StartsWith("redis-server ", commandLine, StringComparison.Ordinal);

        // Passwords with quotes, a dollar sign and shell operators: the shell must pass them through untouched.
        var values = new Dictionary<string, string>();
        var port = FreePort.Next();
        string Resolve(string template) => ParameterReference().Replace(
            template.Replace("{cache.bindings.tcp.host}", "127.0.0.1", StringComparison.Ordinal).Replace("{cache.bindings.tcp.port}", $"{port}", StringComparison.Ordinal),
            m => values.TryGetValue(m.Groups[1].Value, out var value) ? value : values[m.Groups[1].Value] = $"{Guid.NewGuid():N}\"'$x&|");

        var folder = Directory.CreateTempSubdirectory("ticketsale-published-redis-").FullName;
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec {MachineBinaries.Default().Find("redis-server", "redis-server")}{commandLine["redis-server".Length..]} --port {port} --bind 127.0.0.1 --dir {folder} --appendonly no --save \"\"");
        foreach (var (variable, value) in cache["env"]!.AsObject())
        {
            Assert.Matches(ParameterReference(), (string)value!);
            start.Environment[variable] = Resolve((string)value!);
        }

        // The passwords are expanded by the container's shell from its environment, never written into the manifest.
        Assert.DoesNotContain(values.Values, v => manifest.Resources.ToJsonString().Contains(v, StringComparison.Ordinal));
        using var server = Process.Start(start)!;
        try
        {
            var operators = ConfigurationOptions.Parse($"127.0.0.1:{port},password={values["cache-password"]},allowAdmin=true");
            ConnectionMultiplexer? admin = null;
            await Eventually.SucceedsAsync(async () => admin = await ConnectionMultiplexer.ConnectAsync(operators), TimeSpan.FromSeconds(15));
            await using var operatorsConnection = admin!;
            Assert.Equal("default", (string?)await admin!.GetDatabase().ExecuteAsync("ACL", "WHOAMI"));

            foreach (var (service, ownKey) in new[] { ("api", "ts:session:x"), ("worker", "ts:{c}:stock"), ("web", "ts:rl:x") })
            {
                var options = ConfigurationOptions.Parse(Resolve((string)manifest.Resources[service]!["env"]!["ConnectionStrings__cache"]!));
                options.AllowAdmin = true;
                await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
                var db = redis.GetDatabase();
                // The server sees the connection as the service's user (the user itself may not ask: ACL is an admin command).
                Assert.Contains($" user=ticketsale-{service} ", (string?)await admin.GetDatabase().ExecuteAsync("CLIENT", "LIST"), StringComparison.Ordinal);
                Assert.True(await db.StringSetAsync(ownKey, "x"));
                foreach (var (command, arguments) in new (string, object[])[] { ("FLUSHALL", []), ("CONFIG", ["SET", "maxmemory-policy", "allkeys-lru"]), ("KEYS", ["*"]), ("SCRIPT", ["FLUSH"]) })
                {
                    Assert.StartsWith("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() => db.ExecuteAsync(command, arguments))).Message, StringComparison.Ordinal);
                }

                Assert.StartsWith("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() => db.StringSetAsync("other:x", "x"))).Message, StringComparison.Ordinal);
            }

            // The gateway's user cannot reach the Api's sessions.
            await using var web = await ConnectionMultiplexer.ConnectAsync(Resolve((string)manifest.Resources["web"]!["env"]!["ConnectionStrings__cache"]!));
            Assert.StartsWith("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() => web.GetDatabase().StringGetAsync("ts:session:x"))).Message, StringComparison.Ordinal);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    [GeneratedRegex(@"\{([a-z0-9-]+)\.value\}")]
    private static partial Regex ParameterReference();
}

/// <summary>The AppHost published once, with Aspire's manifest publisher, into a folder of its own.</summary>
public sealed class PublishedManifest : IAsyncLifetime
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("ticketsale-manifest-").FullName;

    public JsonObject Resources { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var manifestPath = Path.Combine(Folder, "aspire-manifest.json");
        await Processes.PublishAsync(Folder, "--publisher", "manifest", "--output-path", manifestPath);
        Resources = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!["resources"]!.AsObject();
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }
}
