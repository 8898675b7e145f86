using System.Diagnostics;
using System.Text.Json.Nodes;

namespace TicketSale.AppHost.Tests;

/// <summary>What operators get from publishing the AppHost: Aspire's manifest of the whole model.</summary>
public sealed class ManifestTests
{
    [Fact]
    public async Task Publishing_writes_the_whole_model_with_the_backing_services_as_official_containers()
    {
        var folder = Directory.CreateTempSubdirectory("ticketsale-manifest-").FullName;
        try
        {
            var manifestPath = Path.Combine(folder, "aspire-manifest.json");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
            foreach (var argument in new[] { typeof(TicketSale.AppHost.LocalServers.StateFolder).Assembly.Location, "--publisher", "manifest", "--output-path", manifestPath })
            {
                start.ArgumentList.Add(argument);
            }

            using (var publish = Process.Start(start)!)
            {
                var output = publish.StandardOutput.ReadToEndAsync();
                var error = publish.StandardError.ReadToEndAsync();
                await publish.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
                Assert.True(publish.ExitCode == 0, await output + await error);
            }

            var resources = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!["resources"]!.AsObject();
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
                ("ConnectionStrings__cache", "{cache.connectionString}"),
                // The Api's own database role, not the server's admin (which only the migration service gets).
                ("ConnectionStrings__tickets", "Host={postgres.bindings.tcp.host};Port={postgres.bindings.tcp.port};Username=ticketsale_api;Password={tickets-api-password.value};Database=tickets"),
                ("ConnectionStrings__messaging", "{messaging.connectionString}"),
                ("services__payments__http__0", "{payments.bindings.http.url}"),
                ("Auth__SigningKey", "{token-signing-key.value}"),
                ("Payments__ApiKey", "{payments-key.value}"),
                ("Management__Key", "{management-key.value}"),
            })
            {
                Assert.Equal(value, (string?)api[variable]);
            }

            Assert.Equal("{tickets.connectionString}", (string?)resources["migrations"]!["env"]!["ConnectionStrings__tickets"]);
            Assert.Equal("Host={postgres.bindings.tcp.host};Port={postgres.bindings.tcp.port};Username=ticketsale_worker;Password={tickets-worker-password.value};Database=tickets",
                (string?)resources["worker"]!["env"]!["ConnectionStrings__tickets"]);
            Assert.Equal("{api.bindings.http.url}", (string?)resources["web"]!["env"]!["services__api__http__0"]);
            // The gateway checks access tokens with the public keys the Api publishes: it is given no signing key.
            Assert.Null(resources["web"]!["env"]!["Auth__SigningKey"]);
            Assert.True((bool)resources["web"]!["bindings"]!["http"]!["external"]!);

            // Secrets are inputs for the deployment to supply; no generated value or local path is published.
            foreach (var secret in new[] { "token-signing-key", "admin-password", "waiting-room-key", "payments-key", "management-key", "tickets-owner-password", "tickets-api-password", "tickets-worker-password", "dataprotection-certificate", "postgres-password", "cache-password", "messaging-password" })
            {
                Assert.Equal("parameter.v0", Type(secret));
                Assert.True((bool)resources[secret]!["inputs"]!["value"]!["secret"]!);
            }

            var text = resources.ToJsonString();
            Assert.DoesNotContain("Ledger__Directory", text, StringComparison.Ordinal);
            Assert.DoesNotContain(".state", text, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(folder, ".state")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
