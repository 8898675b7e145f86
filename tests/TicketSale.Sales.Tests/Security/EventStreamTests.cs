using System.Net;

namespace TicketSale.Sales.Tests;

/// <summary>
/// An event stream holds a connection and a subscription for as long as its reader likes: one user or one address
/// cannot hold more than a few on a replica, and a stream with nothing to say ends.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class EventStreamTests(SecurityFixture fixture)
{
    [Fact]
    public async Task One_user_holds_a_few_event_streams_at_once_and_gets_another_once_one_is_closed()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var token = fixture.MintCustomer(Guid.NewGuid()).AccessToken;
        var url = new Uri(fixture.App.GetEndpoint("api"), $"/api/campaigns/{campaign.Id}/seats/events");
        // From addresses of their own: the user's cap is what refuses.
        var visitors = Enumerable.Range(0, SecurityFixture.EventStreamsPerUser + 1).Select(_ => fixture.NewVisitor()).ToList();
        var open = new List<HttpResponseMessage>();
        try
        {
            foreach (var visitor in visitors.Take(SecurityFixture.EventStreamsPerUser))
            {
                open.Add(await visitor.OpenStreamAsync(url, token));
            }

            Assert.All(open, s => Assert.Equal(HttpStatusCode.OK, s.StatusCode));
            using (var refused = await visitors[^1].OpenStreamAsync(url, token))
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            }

            open[0].Dispose();
            await Eventually.HoldsAsync(async () =>
            {
                var again = await visitors[^1].OpenStreamAsync(url, token);
                open.Add(again);
                return again.StatusCode == HttpStatusCode.OK;
            }, "a closed stream's place to be free again", TimeSpan.FromSeconds(10));
        }
        finally
        {
            open.ForEach(s => s.Dispose());
            visitors.ForEach(v => v.Dispose());
        }
    }

    [Fact]
    public async Task One_address_holds_a_few_event_streams_at_once_whoever_opens_them_and_another_address_is_not_refused()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var url = new Uri(fixture.App.GetEndpoint("api"), $"/api/campaigns/{campaign.Id}/seats/events");
        using var crowd = fixture.NewVisitor();
        using var other = fixture.NewVisitor();
        var open = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < SecurityFixture.EventStreamsPerAddress; i++)
            {
                open.Add(await crowd.OpenStreamAsync(url, fixture.MintCustomer(Guid.NewGuid()).AccessToken));
            }

            Assert.All(open, s => Assert.Equal(HttpStatusCode.OK, s.StatusCode));
            using (var refused = await crowd.OpenStreamAsync(url))
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            }

            using var elsewhere = await other.OpenStreamAsync(url);
            Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        }
        finally
        {
            open.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_stream_with_nothing_to_say_ends_after_the_idle_timeout()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        using var reader = fixture.NewVisitor();
        using var stream = await reader.OpenStreamAsync(new Uri(fixture.App.GetEndpoint("api"), $"/api/campaigns/{campaign.Id}/seats/events"));
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);

        using var timeout = new CancellationTokenSource(SecurityFixture.EventStreamIdleTimeout * 4);
        var text = await stream.Content.ReadAsStringAsync(timeout.Token);

        Assert.Contains("current", text, StringComparison.Ordinal);
    }
}
