using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Metrics, the detailed readiness report and the services' /internal routes are for operators and the services
/// themselves: not through the public gateway, and not on a service's own port without the management key.
/// </summary>
[Collection(SaleCollection.Name)]
public sealed class OperatorRoutesTests(SaleFixture fixture)
{
    [Fact]
    public async Task A_draft_campaign_is_not_served_by_an_api_replicas_internal_route_without_the_management_key()
    {
        var draft = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10, open: false);
        for (var replica = 0; replica < fixture.App.ReplicaCount("api"); replica++)
        {
            using var anonymous = fixture.App.CreateHttpClient("api", replica);
            using var refused = await anonymous.GetAsync(new Uri($"/internal/campaigns/{draft.Id}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.DoesNotContain(draft.Id.ToString(), await refused.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

            using var service = fixture.App.CreateOperatorClient("api", replica);
            Assert.Equal(HttpStatusCode.OK, (await service.GetAsync(new Uri($"/internal/campaigns/{draft.Id}", UriKind.Relative))).StatusCode);
        }
    }

    [Theory]
    [InlineData("web")]
    [InlineData("api")]
    [InlineData("worker")]
    [InlineData("payments")]
    public async Task Metrics_and_the_readiness_details_need_the_management_key_the_probe_status_does_not(string resource)
    {
        using var anonymous = fixture.App.CreateHttpClient(resource);
        using var metrics = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
        using var internalRoute = await anonymous.GetAsync(new Uri($"/internal/campaigns/{Guid.NewGuid()}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, internalRoute.StatusCode);

        using var health = await anonymous.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());

        using var wrongKey = fixture.App.CreateHttpClient(resource);
        wrongKey.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-the-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongKey.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);

        using var operatorClient = fixture.App.CreateOperatorClient(resource);
        Assert.Contains("dotnet_gc_", await operatorClient.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);
        Assert.Contains("\"checks\"", await operatorClient.GetStringAsync(new Uri("/health", UriKind.Relative)), StringComparison.Ordinal);
    }

    /// <summary>The gateway's blue-green switch sends all traffic somewhere else: nobody but an operator may pull it.</summary>
    [Fact]
    public async Task The_gateways_release_switch_refuses_a_visitor_and_answers_bad_input_with_field_errors()
    {
        var hijack = new { service = "api-green", endpoints = new[] { "http://attacker.example" } };
        using var anonymous = fixture.App.CreateHttpClient("web");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutAsJsonAsync(new Uri("/internal/release", UriKind.Relative), hijack)).StatusCode);
        using var wrongKey = fixture.App.CreateHttpClient("web");
        wrongKey.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-the-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongKey.PutAsJsonAsync(new Uri("/internal/release", UriKind.Relative), hijack)).StatusCode);

        using var operatorClient = fixture.App.CreateOperatorClient("web");
        using var invalid = await operatorClient.PutAsJsonAsync(new Uri("/internal/release", UriKind.Relative), new { service = "API!", endpoints = new[] { "not a url" } });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.NotNull(errors["service"]);
        Assert.NotNull(errors["endpoints"]);

        // Nothing was switched: the Api is still the live release, and it still answers through the gateway.
        Assert.Equal("api", (string?)(await operatorClient.GetFromJsonAsync<JsonObject>(new Uri("/internal/release", UriKind.Relative)))!["service"]);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/api/campaigns", UriKind.Relative))).StatusCode);
    }
}
