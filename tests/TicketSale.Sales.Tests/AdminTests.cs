using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace TicketSale.Sales.Tests;

[Collection(SaleCollection.Name)]
public sealed class AdminTests(SaleFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_50000_seat_venue_is_created_by_bulk_insert_with_every_seat()
    {
        var clock = Stopwatch.StartNew();
        var venue = await fixture.Admin.PostAsync("/api/admin/venues", new
        {
            name = "Stadium",
            sections = Enumerable.Range(0, 10).Select(i => new { name = $"S{i}", priceCategory = i < 3 ? "premium" : "standard", rows = 50, seatsPerRow = 100 }),
        });
        output.WriteLine($"50,000-seat venue created in {clock.Elapsed.TotalSeconds:0.00} s");

        Assert.Equal(HttpStatusCode.Created, venue.Status);
        Assert.Equal(50_000, (int)venue.Body!["seatCount"]!);
        var id = Guid.Parse((string)venue.Body!["id"]!);
        Assert.Equal(50_000, await fixture.ScalarAsync("SELECT count(*) FROM \"Seats\" WHERE \"VenueId\" = $1", id));
        Assert.Equal(49_999, await fixture.ScalarAsync("SELECT max(\"Index\") FROM \"Seats\" WHERE \"VenueId\" = $1", id));
        Assert.Equal(15_000, await fixture.ScalarAsync("SELECT count(*) FROM \"Seats\" WHERE \"VenueId\" = $1 AND \"PriceCategory\" = 'premium'", id));
    }

    [Fact]
    public async Task Campaigns_move_from_draft_to_published_to_on_sale_to_closed_and_only_then()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 5, open: false);
        var anonymous = fixture.Anonymous();
        var customer = await fixture.NewCustomerAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/campaigns/{campaign.Id}")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await fixture.Admin.PostAsync($"/api/admin/campaigns/{campaign.Id}/open", null)).Status);
        await fixture.ChangeCampaignAsync(HttpMethod.Post, $"/api/admin/campaigns/{campaign.Id}/publish");
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/api/campaigns/{campaign.Id}")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await customer.HoldSeatsAsync(campaign.Id, 0)).Status);

        await fixture.ChangeCampaignAsync(HttpMethod.Post, $"/api/admin/campaigns/{campaign.Id}/open");
        Assert.Equal(HttpStatusCode.Created, (await customer.HoldSeatsAsync(campaign.Id, 0)).Status);

        await fixture.ChangeCampaignAsync(HttpMethod.Post, $"/api/admin/campaigns/{campaign.Id}/close");
        var closed = await customer.HoldSeatsAsync(campaign.Id, 1);
        Assert.Equal(HttpStatusCode.Conflict, closed.Status);
        Assert.EndsWith("not-on-sale", (string)closed.Body!["type"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_edit_based_on_a_stale_version_is_refused()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10, open: false);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Admin.GetAsync($"/api/campaigns/{campaign.Id}")).Status); // drafts are not public

        var list = (JsonArray)(await fixture.Admin.GetAsync("/api/admin/campaigns")).Body!;
        var version = (int)list.Single(c => (string)c!["id"]! == campaign.Id.ToString())!["version"]!;
        object Edit(int v, string name) => new
        {
            name,
            eventAt = DateTimeOffset.UtcNow.AddDays(7),
            saleOpensAt = DateTimeOffset.UtcNow,
            saleClosesAt = DateTimeOffset.UtcNow.AddDays(1),
            perUserLimit = 4,
            cancellationAllowed = true,
            prices = Array.Empty<object>(),
            generalAdmission = new[] { new { name = "Floor", capacity = 20, priceCents = 1000L } },
            version = v,
        };

        var first = await fixture.Admin.SendAsync(HttpMethod.Put, $"/api/admin/campaigns/{campaign.Id}", Edit(version, "Renamed once"));
        var second = await fixture.Admin.SendAsync(HttpMethod.Put, $"/api/admin/campaigns/{campaign.Id}", Edit(version, "Renamed from a stale copy"));

        Assert.True(first.Status == HttpStatusCode.OK, first.Text);
        Assert.Equal("Renamed once", (string)first.Body!["name"]!);
        Assert.Equal(HttpStatusCode.Conflict, second.Status);
    }

    [Fact]
    public async Task Sales_figures_and_on_demand_reconciliation_report_what_postgres_holds()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10, perUserLimit: 10, generalAdmission: 50);
        var buyer = await fixture.NewCustomerAsync();
        var (_, seatsHold, _) = await buyer.HoldSeatsAsync(campaign.Id, 0, 1);
        var (_, gaHold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 2);
        var purchases = new[] { (await buyer.PurchaseAsync(campaign.Id, seatsHold!.Value)).PurchaseId!.Value, (await buyer.PurchaseAsync(campaign.Id, gaHold!.Value)).PurchaseId!.Value };
        await fixture.WaitForOutcomesAsync(purchases, TimeSpan.FromSeconds(30));
        var (_, openHold, _) = await buyer.HoldSeatsAsync(campaign.Id, 5);

        // The figures may trail the sale by the standby's lag.
        var sales = (await fixture.Admin.GetAsync($"/api/admin/campaigns/{campaign.Id}/sales")).Body!;
        await Eventually.HoldsAsync(async () => (int)(sales = (await fixture.Admin.GetAsync($"/api/admin/campaigns/{campaign.Id}/sales")).Body!)["orders"]! == 2,
            "the figures to show both orders");
        Assert.Equal(2, (int)sales["seatsSold"]!);
        Assert.Equal(2, (int)sales["generalAdmission"]![0]!["sold"]!);
        Assert.Equal(2, (int)sales["orders"]!);
        Assert.Equal((2 * 4200) + (2 * 1500), (long)sales["revenueCents"]!);

        var reconcile = await fixture.Admin.PostAsync($"/api/admin/campaigns/{campaign.Id}/reconcile", null);
        Assert.Equal(HttpStatusCode.OK, reconcile.Status);
        Assert.Equal(2, (int)reconcile.Body!["soldSeats"]!);
        Assert.Equal(1, (int)reconcile.Body!["holdsKept"]!);
        var free = await buyer.FreeSeatsAsync(campaign.Id);
        Assert.DoesNotContain(0, free);
        Assert.DoesNotContain(5, free);
        Assert.NotNull(openHold);
    }

    [Fact]
    public async Task Public_reads_carry_etags_and_answer_304_when_unchanged()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        using var http = new HttpClient { BaseAddress = fixture.Web };

        foreach (var path in new[] { $"/api/campaigns/{campaign.Id}", $"/api/campaigns/{campaign.Id}/seats", "/api/campaigns" })
        {
            using var first = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var etag = first.Headers.ETag;
            Assert.NotNull(etag);
            using var again = new HttpRequestMessage(HttpMethod.Get, path);
            again.Headers.IfNoneMatch.Add(etag);
            using var second = await http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        }

        // A hold changes the seat map's version, so the old ETag no longer matches.
        using var before = await http.GetAsync(new Uri($"/api/campaigns/{campaign.Id}/seats", UriKind.Relative));
        await (await fixture.NewCustomerAsync()).HoldSeatsAsync(campaign.Id, 3);
        using var changed = new HttpRequestMessage(HttpMethod.Get, $"/api/campaigns/{campaign.Id}/seats");
        changed.Headers.IfNoneMatch.Add(before.Headers.ETag!);
        using var after = await http.SendAsync(changed);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Availability_changes_are_pushed_as_server_sent_events()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        using var http = new HttpClient { BaseAddress = fixture.Web, Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync(new Uri($"/api/campaigns/{campaign.Id}/seats/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var customer = await fixture.NewCustomerAsync();
        await customer.HoldSeatsAsync(campaign.Id, 6, 7);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var events = new List<string>();
        while (events.Count < 2 && await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line[6..]);
            }
        }

        Assert.Matches(@"^\d+ current$", events[0]);
        Assert.Matches(@"^\d+ held 6,7$", events[1]);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_api()
    {
        using var http = fixture.App.CreateHttpClient("api");
        var json = JsonNode.Parse(await http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!;

        Assert.NotNull(json["paths"]!["/api/campaigns/{campaignId}/holds"]);
        Assert.NotNull(json["paths"]!["/api/purchases"]);
    }
}
