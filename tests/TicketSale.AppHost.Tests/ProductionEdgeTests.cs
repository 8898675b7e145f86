using System.Net;
using System.Security.Cryptography;
using TicketSale.AppHost.Hosting.Resources;

namespace TicketSale.AppHost.Tests;

/// <summary>The Web as it runs outside Development: HTTPS only, with HSTS.</summary>
public sealed class ProductionEdgeTests
{
    [Fact]
    public async Task Outside_development_the_web_redirects_to_https_and_sends_hsts_over_https()
    {
        var builder = DistributedApplicationTestingBuilder.CreateBuilder();
        builder.Options.EnvironmentName = "Production";
        var cache = builder.AddRedis("cache");
        builder.AddProject<Projects.TicketSale_Web>("web")
            .WithReference(cache).WaitFor(cache)
            .WithEnvironment("services__api__http__0", "http://127.0.0.1:9") // no Api in this model
            .WithEnvironment("Auth__SigningKey", Convert.ToHexString(RandomNumberGenerator.GetBytes(32)))
            .WithEnvironment("WaitingRoom__SigningKey", Convert.ToHexString(RandomNumberGenerator.GetBytes(32)))
            .WithEnvironment("ASPNETCORE_HTTPS_PORT", "443")
            .WithHttpHealthCheck("/alive");
        await using var app = builder.Build();
        await app.StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.GetEndpoint("web") };

        using var plain = await http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, plain.StatusCode);
        Assert.Equal("https", plain.Headers.Location!.Scheme);

        // Behind a TLS-terminating proxy (believed from loopback only): HSTS on the HTTPS answer.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "tickets.example";
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var secure = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, secure.StatusCode);
        Assert.StartsWith("max-age=31536000", secure.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
    }
}
