using System.Net;

namespace TicketSale.AppHost.Tests;

/// <summary>The Web's YARP gateway in front of the Api replicas, with one replica killed.</summary>
public sealed class GatewayTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private DistributedApplication App => fixture.App;

    [Fact]
    public async Task Requests_through_the_web_reach_both_api_replicas()
    {
        using var web = App.CreateHttpClient("web");

        var servedBy = await ServedByAsync(web, requests: 20);

        Assert.All(servedBy, s => Assert.Equal(HttpStatusCode.OK, s.Status));
        Assert.Equal(["api-0", "api-1"], servedBy.Select(s => s.Instance).Distinct().Order());
    }

    [Fact]
    public async Task After_an_api_replica_is_killed_requests_through_the_web_keep_succeeding()
    {
        using var web = App.CreateHttpClient("web");
        var killed = App.GetProcessId("api", 1)!.Value;
        try
        {
            await App.KillResourceAsync("api", 1);
            Assert.False(ProcessTree.IsRunning(killed));

            // Straight after the kill: no waiting for the health checks to notice.
            var servedBy = await ServedByAsync(web, requests: 40);

            Assert.All(servedBy, s => Assert.Equal(HttpStatusCode.OK, s.Status));
            Assert.All(servedBy, s => Assert.Equal("api-0", s.Instance));
        }
        finally
        {
            await App.StartResourceAsync("api", 1);
        }

        // The restarted replica rejoins the rotation once the active health probe sees it.
        await Eventually.SucceedsAsync(async () =>
            Assert.Contains("api-1", (await ServedByAsync(web, requests: 6)).Select(s => s.Instance)), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_web_serves_the_site_itself()
    {
        using var web = App.CreateHttpClient("web");

        var page = await web.GetStringAsync(new Uri("/", UriKind.Relative));

        Assert.Contains("<title>TicketSale</title>", page, StringComparison.Ordinal);
    }

    private static async Task<List<(HttpStatusCode Status, string? Instance)>> ServedByAsync(HttpClient web, int requests)
    {
        var results = new List<(HttpStatusCode, string?)>();
        for (var i = 0; i < requests; i++)
        {
            using var response = await web.GetAsync(new Uri("/api/instance", UriKind.Relative));
            results.Add((response.StatusCode, response.Headers.TryGetValues("X-Served-By", out var v) ? v.Single() : null));
        }

        return results;
    }
}
