using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace TicketSale.Sales.Tests;

/// <summary>
/// A blue-green release under a live sale: the gateway's switch command (as the dashboard runs it) starts the green Api
/// and Worker, checks them and sends all traffic to them, and a rollback sends it back, while buyers keep holding and
/// buying through the gateway.
/// </summary>
[Collection(SaleCollection.Name)]
public sealed class BlueGreenTests(SaleFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Blue = "blue";
    private const string Green = "green";

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Blue is live again for the tests that follow, whatever happened here.</summary>
    public async Task DisposeAsync()
    {
        if (await LiveServiceAsync() != "api")
        {
            await SwitchAsync("switch-to-blue");
        }
    }

    [Fact]
    public async Task Switching_to_green_and_rolling_back_under_live_load_fails_no_request_and_breaks_no_invariant()
    {
        // About 30 purchases a second for the whole release and rollback, within every buyer's and the address's limits.
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, perUserLimit: 50, generalAdmission: 5000);
        var buyers = Enumerable.Range(0, 72).Select(_ => fixture.MintCustomer(Guid.NewGuid(), TimeSpan.FromMinutes(10))).ToList();
        var phase = Blue;
        // X-Served-By names the replica by its instance id.
        var blue = Enumerable.Range(0, fixture.App.ReplicaCount("api")).Select(i => fixture.App.GetInstanceId("api", i)).ToHashSet();
        var green = Enumerable.Range(0, fixture.App.ReplicaCount("api-green")).Select(i => fixture.App.GetInstanceId("api-green", i)).ToHashSet();
        var served = new ConcurrentDictionary<(string Phase, string Colour), int>();
        var statuses = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentQueue<string>();
        var accepted = new ConcurrentBag<Guid>();
        using var stop = new CancellationTokenSource();

        void Record(ApiResponse response, string what)
        {
            statuses.AddOrUpdate((int)response.Status, 1, (_, n) => n + 1);
            if ((int)response.Status >= 500)
            {
                failures.Enqueue($"{what} ({Volatile.Read(ref phase)}): {(int)response.Status} {response.Text}");
            }

            if (response.ServedBy is { } replica)
            {
                served.AddOrUpdate((Volatile.Read(ref phase), green.Contains(replica) ? Green : blue.Contains(replica) ? Blue : replica), 1, (_, n) => n + 1);
            }
        }

        async Task BuyAsync(ApiClient buyer)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var page = await buyer.GetAsync($"/api/campaigns/{campaign.Id}");
                    Record(page, "campaign page");
                    var hold = await buyer.PostAsync($"/api/campaigns/{campaign.Id}/holds", new { generalAdmissionCategoryId = campaign.GeneralAdmissionId, quantity = 1 });
                    Record(hold, "hold");
                    if (hold.Status == HttpStatusCode.Created)
                    {
                        var purchase = await buyer.PostAsync("/api/purchases", new { campaignId = campaign.Id, holdId = (string)hold.Body!["holdId"]! }, Guid.NewGuid().ToString("N"));
                        Record(purchase, "purchase");
                        if (purchase.Status == HttpStatusCode.Accepted)
                        {
                            accepted.Add(Guid.Parse((string)purchase.Body!["purchaseId"]!));
                        }
                    }
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue($"transport ({Volatile.Read(ref phase)}): {ex.Message}");
                }

                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }

        var load = buyers.Select(buyer => Task.Run(() => BuyAsync(buyer))).ToList();
        await Task.Delay(TimeSpan.FromSeconds(4));
        var release = Stopwatch.StartNew();
        Volatile.Write(ref phase, "to green");
        await SwitchAsync("switch-to-green");
        var toGreen = release.Elapsed;
        Volatile.Write(ref phase, Green);
        Assert.Equal("api-green", await LiveServiceAsync());
        await Task.Delay(TimeSpan.FromSeconds(5));
        release.Restart();
        Volatile.Write(ref phase, "to blue");
        await SwitchAsync("switch-to-blue");
        var toBlue = release.Elapsed;
        Volatile.Write(ref phase, "blue again");
        Assert.Equal("api", await LiveServiceAsync());
        await Task.Delay(TimeSpan.FromSeconds(5));
        await stop.CancelAsync();
        await Task.WhenAll(load);

        output.WriteLine($"switch to green {toGreen.TotalSeconds:F1} s, rollback {toBlue.TotalSeconds:F1} s; {accepted.Count} purchases accepted");
        output.WriteLine("answers: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
        output.WriteLine("served (phase → colour): " + string.Join(", ", served.OrderBy(s => s.Key.Phase).Select(s => $"{s.Key.Phase} → {s.Key.Colour}: {s.Value}")));

        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(20)));
        Assert.True(served.GetValueOrDefault((Blue, Blue)) > 0, "blue served before the release");
        Assert.Equal(0, served.GetValueOrDefault((Blue, Green)));
        Assert.True(served.GetValueOrDefault((Green, Green)) > 0, "green served once live");
        Assert.Equal(0, served.GetValueOrDefault((Green, Blue)));
        Assert.True(served.GetValueOrDefault(("blue again", Blue)) > 0, "blue served after the rollback");
        Assert.Equal(0, served.GetValueOrDefault(("blue again", Green)));
        Assert.True(accepted.Count > buyers.Count, $"{accepted.Count} purchases accepted");
        await Invariants.AssertAllAsync(fixture, campaign, [.. accepted]);
        await Invariants.AssertEveryCaptureHasATicketAsync(fixture);
    }

    private async Task SwitchAsync(string command)
    {
        var result = await fixture.App.App.ResourceCommands.ExecuteCommandAsync(fixture.App.Resource("web"), command);
        Assert.True(result.Success, $"{command}: {result.Message}");
    }

    private async Task<string?> LiveServiceAsync()
    {
        using var web = fixture.App.CreateOperatorClient("web");
        return (string?)(await web.GetFromJsonAsync<JsonObject>(new Uri("/internal/release", UriKind.Relative)))?["service"];
    }
}
