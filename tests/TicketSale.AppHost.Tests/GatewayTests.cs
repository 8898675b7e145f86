using System.Net;

namespace TicketSale.AppHost.Tests;

/// <summary>The Web's YARP gateway in front of the Api replicas, with one replica killed.</summary>
public sealed class GatewayTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private TicketSaleApp App => fixture.App;

    [Fact]
    public async Task Requests_through_the_web_reach_both_api_replicas()
    {
        using var web = App.CreateHttpClient("web");

        var servedBy = await ServedByAsync(web, requests: 20);

        Assert.All(servedBy, s => Assert.Equal(HttpStatusCode.OK, s.Status));
        Assert.Equal(new[] { App.GetInstanceId("api", 0), App.GetInstanceId("api", 1) }.Order(), servedBy.Select(s => s.Instance).Distinct().Order());
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
            Assert.All(servedBy, s => Assert.Equal(App.GetInstanceId("api", 0), s.Instance));
        }
        finally
        {
            await App.StartResourceAsync("api", 1);
        }

        // The restarted replica rejoins the rotation once the active health probe sees it.
        await Eventually.SucceedsAsync(async () =>
            Assert.Contains(App.GetInstanceId("api", 1), (await ServedByAsync(web, requests: 6)).Select(s => s.Instance)), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_web_serves_the_site_itself()
    {
        using var web = App.CreateHttpClient("web");

        var page = await web.GetStringAsync(new Uri("/", UriKind.Relative));

        Assert.Contains("<title>TicketSale</title>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_waiting_room_takes_what_it_can_at_once_and_turns_the_rest_away_with_retry_after_while_other_requests_pass()
    {
        using var web = App.CreateHttpClient("web");
        var room = new Uri($"/api/campaigns/{Guid.NewGuid()}/waiting-room", UriKind.Relative);

        // One waiting-room request at a time and none queued (GatewayFixture): of 200 arriving together, the surplus
        // is answered with 503, a problem and Retry-After (1 to 4 s, spread) before any other work; the rest reach the
        // waiting room, which the gateway answers itself (401: anonymous). Meanwhile the rest of the API is not limited.
        var other = ServedByAsync(web, requests: 20);
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await web.GetAsync(room);
            return (response.StatusCode, response.Headers.RetryAfter?.Delta, response.Content.Headers.ContentType?.MediaType);
        }));

        var turnedAway = answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(turnedAway);
        Assert.All(turnedAway, a =>
        {
            Assert.InRange(a.Delta!.Value.TotalSeconds, 1, 4);
            Assert.Equal("application/problem+json", a.MediaType);
        });
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.Unauthorized);
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.ServiceUnavailable, HttpStatusCode.Unauthorized }));
        Assert.All(await other, s => Assert.Equal(HttpStatusCode.OK, s.Status));
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

/// <summary>The whole application with the gateway's waiting-room limit at its smallest: one at a time, none queued.</summary>
public sealed class GatewayFixture : AppFixture
{
    protected override void Configure(IDistributedApplicationTestingBuilder builder) =>
        builder.CreateResourceBuilder<ProjectResource>("web")
            .WithEnvironment("Gateway__WaitingRoom__ConcurrencyLimit", "1")
            .WithEnvironment("Gateway__WaitingRoom__QueueLimit", "0");
}
