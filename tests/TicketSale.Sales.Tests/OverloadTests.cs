using System.Net;

namespace TicketSale.Sales.Tests;

/// <summary>The application with each Api replica working on one buyer's request at a time, and none waiting.</summary>
public sealed class OneRequestInFlightFixture() : ConfiguredLimitsFixture(("RateLimits__MaxRequestsInFlight", "1"), ("RateLimits__InFlightQueue", "0"));

public sealed class OverloadTests(OneRequestInFlightFixture fixture) : IClassFixture<OneRequestInFlightFixture>
{
    [Fact]
    public async Task A_replica_at_its_bound_answers_buyers_503_at_once_while_operators_probes_and_event_streams_pass()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 0);
        var purchase = (await buyer.PurchaseAsync(campaign.Id, hold!.Value)).PurchaseId!.Value;
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);
        var replica = fixture.App.GetEndpoint("api", 0);
        var onReplica = new ApiClient(new HttpClient(), replica, buyer.AccessToken);
        var adminOnReplica = new ApiClient(new HttpClient(), replica, null, fixture.AdminTokenAsync);
        using var payments = fixture.Payments();
        await payments.SetAsync(latencyMs: 5000);
        try
        {
            // A cancellation waits for its refund: the replica's one place is taken for five seconds. The reads that
            // watch for it take that place too, for a moment each: a cancellation arriving during one is itself
            // refused (503, nothing done), and is sent again.
            Task<ApiResponse> Cancel() => onReplica.PostAsync($"/api/orders/{purchase}/cancel", null);
            var slow = Cancel();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            ApiResponse refused;
            while (true)
            {
                refused = await onReplica.GetAsync($"/api/campaigns/{campaign.Id}");
                if (refused.Status == HttpStatusCode.ServiceUnavailable && !slow.IsCompleted)
                {
                    break;
                }

                if (slow.IsCompleted)
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, (await slow).Status);
                    Assert.True(DateTime.UtcNow < deadline, "The cancellation never held the replica's place.");
                    slow = Cancel();
                }
            }

            Assert.Equal("application/problem+json", refused.ContentType);
            Assert.Equal("Service unavailable", (string)refused.Body!["title"]!);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await onReplica.PostAsync($"/api/campaigns/{campaign.Id}/holds", new { seats = new[] { 5 } })).Status);
            using (var http = new HttpClient { BaseAddress = replica })
            {
                // Clients refused together are told different moments to come back, within a few seconds.
                var retryAfter = new List<double?>();
                for (var i = 0; i < 20; i++)
                {
                    using var response = await http.GetAsync(new Uri($"/api/campaigns/{campaign.Id}", UriKind.Relative));
                    retryAfter.Add(response.Headers.RetryAfter?.Delta?.TotalSeconds);
                }

                Assert.All(retryAfter, seconds => Assert.InRange(seconds ?? 0, 1, 3));
                Assert.True(retryAfter.Distinct().Count() > 1, $"Every refusal said Retry-After {retryAfter[0]}");
            }

            // Meanwhile the operators' API, the health probe and the seat map's event stream are answered.
            Assert.Equal(HttpStatusCode.OK, (await adminOnReplica.GetAsync($"/api/admin/campaigns/{campaign.Id}/sales")).Status);
            using (var http = new HttpClient { BaseAddress = replica })
            {
                using var health = await http.GetAsync(new Uri("/health", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
                using var stream = await http.GetAsync(new Uri($"/api/campaigns/{campaign.Id}/seats/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
                Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
            }

            Assert.False(slow.IsCompleted, "The checks above were to be made while the cancellation held the replica's place.");
            Assert.Equal(HttpStatusCode.OK, (await slow).Status);
            Assert.Equal(HttpStatusCode.OK, (await onReplica.GetAsync($"/api/campaigns/{campaign.Id}")).Status);
        }
        finally
        {
            await payments.SetAsync();
        }
    }
}
