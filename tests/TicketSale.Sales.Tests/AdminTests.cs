using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using TicketSale.Core.Inventory;
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
        await using var stream = await ChangeStream.OpenAsync(fixture, campaign.Id);

        var customer = await fixture.NewCustomerAsync();
        await customer.HoldSeatsAsync(campaign.Id, 6, 7);

        Assert.Matches(@"^\d+ current$", await stream.NextAsync());
        Assert.Matches(@"^\d+ held 6,7$", await stream.NextAsync());
    }

    [Fact]
    public async Task Every_change_on_the_stream_takes_the_next_version_and_a_rebuild_after_redis_lost_the_campaign_goes_past_them_all()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10, generalAdmission: 10);
        var buyer = await fixture.NewCustomerAsync();
        await using var stream = await ChangeStream.OpenAsync(fixture, campaign.Id);
        var current = long.Parse((await stream.NextAsync()).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

        // Held, sold, a general-admission confirmation with nothing to show, then freed by a cancellation.
        var (_, seats, _) = await buyer.HoldSeatsAsync(campaign.Id, 6, 7);
        var bought = (await buyer.PurchaseAsync(campaign.Id, seats!.Value)).PurchaseId!.Value;
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([bought], TimeSpan.FromSeconds(30)))[bought]);
        await fixture.WaitForRedisToConfirmAsync(campaign.Id, bought);
        var (_, floor, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 1);
        var standing = (await buyer.PurchaseAsync(campaign.Id, floor!.Value)).PurchaseId!.Value;
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([standing], TimeSpan.FromSeconds(30)))[standing]);
        await fixture.WaitForRedisToConfirmAsync(campaign.Id, standing);
        Assert.Equal(HttpStatusCode.OK, (await buyer.PostAsync($"/api/orders/{bought}/cancel", null)).Status);

        // (Seats come in the order the change listed them: compared as sets.)
        (string State, string Detail)[] expected = [("held", "6,7"), ("sold", "6,7"), ("ga", campaign.GeneralAdmissionId.Value.ToString("N")), ("none", "*"), ("free", "6,7")];
        foreach (var (state, detail) in expected)
        {
            var change = (await stream.NextAsync()).Split(' ');
            Assert.Equal($"{++current} {state}", $"{change[0]} {change[1]}");
            Assert.Equal(detail.Split(',').Order(), change[2].Split(',').Order());
        }

        // Redis loses the campaign, its version with it; the rebuild's version goes past every one a page has seen.
        await using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache")!))
        {
            await redis.GetDatabase().KeyDeleteAsync([$"{SeatInventory.Prefix(campaign.Id)}:loaded", $"{SeatInventory.Prefix(campaign.Id)}:ver"]);
        }

        using var http = new HttpClient { BaseAddress = fixture.Web };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri($"/api/campaigns/{campaign.Id}/seats", UriKind.Relative))).StatusCode);
        var rebuilt = (await stream.NextAsync()).Split(' ');
        Assert.Equal("rebuilt", rebuilt[1]);
        Assert.True(long.Parse(rebuilt[0], System.Globalization.CultureInfo.InvariantCulture) > current, $"{rebuilt[0]} after {current}");
    }

    [Fact]
    public async Task An_operators_rebuild_waits_for_the_one_in_progress_instead_of_rebuilding_beside_it()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache")!);
        var inventory = new SeatInventory(redis);
        await using var stream = await ChangeStream.OpenAsync(fixture, campaign.Id);
        await stream.NextAsync();

        // The sale's opening and the Worker's check take this lock too: neither rebuilds while the other does.
        var token = await inventory.TryLockRebuildAsync(campaign.Id, TimeSpan.FromSeconds(15));
        Assert.NotNull(token);
        var reconcile = fixture.Admin.PostAsync($"/api/admin/campaigns/{campaign.Id}/reconcile", null);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(reconcile.IsCompleted, "The rebuild went ahead while another held the campaign's rebuild lock.");

        await inventory.UnlockRebuildAsync(campaign.Id, token);
        Assert.Equal(HttpStatusCode.OK, (await reconcile).Status);
        Assert.EndsWith(" rebuilt *", await stream.NextAsync(), StringComparison.Ordinal);
    }

    /// <summary>A campaign's server-sent availability changes, read through the gateway as a page reads them.</summary>
    private sealed class ChangeStream : IAsyncDisposable
    {
        private readonly HttpClient _http;
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private ChangeStream(HttpClient http, HttpResponseMessage response, StreamReader reader) =>
            (_http, _response, _reader) = (http, response, reader);

        public static async Task<ChangeStream> OpenAsync(SaleFixture fixture, Guid campaignId)
        {
            var http = new HttpClient { BaseAddress = fixture.Web, Timeout = Timeout.InfiniteTimeSpan };
            var response = await http.GetAsync(new Uri($"/api/campaigns/{campaignId}/seats/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new ChangeStream(http, response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        public async Task<string> NextAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            while (await _reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    return line[6..];
                }
            }

            throw new EndOfStreamException("The change stream ended.");
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            _http.Dispose();
            return ValueTask.CompletedTask;
        }
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
