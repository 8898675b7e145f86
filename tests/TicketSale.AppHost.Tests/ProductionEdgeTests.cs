using System.Net;

namespace TicketSale.AppHost.Tests;

/// <summary>The Web as it runs outside Development: HTTPS only, with HSTS.</summary>
public sealed class ProductionEdgeTests
{
    [Fact]
    public async Task Outside_development_the_web_redirects_to_https_and_sends_hsts_over_https()
    {
        await using var app = await TicketSaleApp.StartAsync(
            builder => builder.CreateResourceBuilder<ProjectResource>("web").WithEnvironment("ASPNETCORE_HTTPS_PORT", "443"),
            environment: "Production");
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
