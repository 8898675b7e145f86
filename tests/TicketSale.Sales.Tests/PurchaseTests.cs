using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using StackExchange.Redis;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;

namespace TicketSale.Sales.Tests;

[Collection(SaleCollection.Name)]
public sealed class PurchaseTests(SaleFixture fixture)
{
    [Fact]
    public async Task One_purchase_sent_20_times_in_parallel_with_one_key_makes_one_order_and_one_charge()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 3, 4);
        const string key = "same-key-0001";

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => buyer.PurchaseAsync(campaign.Id, hold!.Value, key)));

        // The key names the purchase: every copy is accepted as the same purchase, none is told to wait.
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.Status));
        var purchaseIds = answers.Select(a => a.PurchaseId!.Value).Distinct().ToList();
        var purchase = Assert.Single(purchaseIds);

        // After it is decided, the key still replays the same answer.
        await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30));
        var replay = await buyer.PurchaseAsync(campaign.Id, hold!.Value, key);
        Assert.Equal(HttpStatusCode.Accepted, replay.Status);
        Assert.Equal(purchase, replay.PurchaseId);

        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM \"Orders\" WHERE \"CampaignId\" = $1", campaign.Id));
        using var payments = fixture.Payments();
        var charge = Assert.Single(await payments.ChargesAsync(), c => (string)c["paymentKey"]! == purchase.ToString());
        Assert.Equal(1, (int)charge["timesCharged"]!);
        Assert.Equal(8400, (long)charge["amountCents"]!);

        // The same key with a different body is refused.
        var (_, otherHold, _) = await buyer.HoldSeatsAsync(campaign.Id, 7);
        var mismatch = await buyer.PurchaseAsync(campaign.Id, otherHold!.Value, key);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, mismatch.Status);
        Assert.Equal("application/problem+json", mismatch.Response.ContentType);
        await Invariants.AssertAllAsync(fixture, campaign, [purchase]);
    }

    [Fact]
    public async Task A_hold_being_bought_is_refused_under_another_key_naming_the_purchase_and_charged_for_what_it_holds()
    {
        // Accepting a purchase reads the hold as it pins it: the general-admission quantity read there is what is
        // charged, and a second purchase of the same hold is told which purchase has it.
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 3);
        using var payments = fixture.Payments();
        // A slow payment keeps the first purchase in flight (once confirmed, the hold is gone and the answer is 404).
        await payments.SetAsync(latencyMs: 1500);
        ApiResponse second;
        (HttpStatusCode Status, Guid? PurchaseId, ApiResponse Response) first;
        try
        {
            first = await buyer.PurchaseAsync(campaign.Id, hold!.Value, "first-key-0001");
            second = (await buyer.PurchaseAsync(campaign.Id, hold.Value, "second-key-0001")).Response;
        }
        finally
        {
            await payments.SetAsync();
        }

        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        Assert.Equal(HttpStatusCode.Conflict, second.Status);
        Assert.Contains(first.PurchaseId!.Value.ToString(), (string)second.Body!["detail"]!, StringComparison.Ordinal);

        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([first.PurchaseId.Value], TimeSpan.FromSeconds(30)))[first.PurchaseId.Value]);
        var charge = Assert.Single(await payments.ChargesAsync(), c => (string)c["paymentKey"]! == first.PurchaseId.Value.ToString());
        Assert.Equal(3 * 1500, (long)charge["amountCents"]!);
        await Invariants.AssertAllAsync(fixture, campaign, [first.PurchaseId.Value]);
    }

    [Fact]
    public async Task The_outcome_reaches_the_buyer_as_a_server_sent_event_without_polling()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        using var payments = fixture.Payments();
        await payments.SetAsync(latencyMs: 1500);
        try
        {
            var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 1);
            var (status, purchase, accepted) = await buyer.PurchaseAsync(campaign.Id, hold!.Value);
            Assert.Equal(HttpStatusCode.Accepted, status);
            Assert.Equal($"/api/purchases/{purchase}", accepted.Location!.OriginalString);

            using var http = new HttpClient { BaseAddress = fixture.Web, Timeout = TimeSpan.FromSeconds(30) };
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/purchases/{purchase}/events");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", buyer.AccessToken);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

            var statuses = new List<string>();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    statuses.Add((string)JsonNode.Parse(line[6..])!["status"]!);
                }
            }

            // The stream opened while the Worker was still charging, and closed itself on the outcome.
            Assert.Equal(["Pending", "Confirmed"], statuses);
        }
        finally
        {
            await payments.SetAsync();
        }
    }

    [Fact]
    public async Task A_pending_status_written_late_does_not_hide_an_outcome_the_worker_already_recorded()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var db = redis.GetDatabase();
        var (purchase, user) = (Guid.NewGuid(), Guid.NewGuid());

        // The Worker was faster than the Api's write after the broker's confirm.
        await PurchaseOutcomeChannel.RecordOutcomeAsync(db, purchase, new PurchaseStatusRecord(user, "Confirmed", purchase, null));
        Assert.False(await PurchaseOutcomeChannel.RecordPendingAsync(db, purchase, user, Guid.NewGuid()));
        Assert.Equal("Confirmed", JsonSerializer.Deserialize<PurchaseStatusRecord>((string)(await db.StringGetAsync(PurchaseOutcomeChannel.StatusKey(purchase)))!)!.Status);

        // The usual order: pending first, then the outcome replaces it.
        var other = Guid.NewGuid();
        Assert.True(await PurchaseOutcomeChannel.RecordPendingAsync(db, other, user, Guid.NewGuid()));
        Assert.Equal("Pending", JsonSerializer.Deserialize<PurchaseStatusRecord>((string)(await db.StringGetAsync(PurchaseOutcomeChannel.StatusKey(other)))!)!.Status);
        await PurchaseOutcomeChannel.RecordOutcomeAsync(db, other, new PurchaseStatusRecord(user, "Failed", null, "Payment declined."));
        Assert.Equal("Failed", JsonSerializer.Deserialize<PurchaseStatusRecord>((string)(await db.StringGetAsync(PurchaseOutcomeChannel.StatusKey(other)))!)!.Status);
    }

    [Fact]
    public async Task A_cancelled_order_is_refunded_and_its_seats_go_back_on_sale()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 5, 6);
        var (_, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold!.Value);
        await fixture.WaitForOutcomesAsync([purchase!.Value], TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(5, await buyer.FreeSeatsAsync(campaign.Id));

        var cancelled = await buyer.PostAsync($"/api/orders/{purchase}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, cancelled.Status);
        Assert.Equal("Cancelled", (string)cancelled.Body!["status"]!);
        using var payments = fixture.Payments();
        Assert.Equal("refunded", (string)(await payments.ChargesAsync()).Single(c => (string)c["paymentKey"]! == purchase.ToString())["status"]!);
        Assert.Contains(5, await buyer.FreeSeatsAsync(campaign.Id));
        var other = await fixture.NewCustomerAsync();
        Assert.Equal(HttpStatusCode.Created, (await other.HoldSeatsAsync(campaign.Id, 5, 6)).Status);

        // Someone else's order cannot be cancelled, and one in a campaign without cancellation neither.
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync($"/api/orders/{purchase}/cancel", null)).Status);
        var strict = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 5, cancellationAllowed: false);
        var (_, strictHold, _) = await buyer.HoldSeatsAsync(strict.Id, 0);
        var (_, strictPurchase, _) = await buyer.PurchaseAsync(strict.Id, strictHold!.Value);
        await fixture.WaitForOutcomesAsync([strictPurchase!.Value], TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.Conflict, (await buyer.PostAsync($"/api/orders/{strictPurchase}/cancel", null)).Status);
    }

    [Fact]
    public async Task A_cancellation_that_reaches_redis_before_its_confirmation_returns_the_seats_and_the_confirmation_sells_nothing()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 3, 4);
        var userId = (await fixture.QueryAsync("SELECT \"Id\" FROM \"Users\" WHERE \"Email\" = $1", r => r.GetGuid(0), buyer.Email!))[0];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var inventory = new SeatInventory(redis);
        var order = Guid.CreateVersion7();

        // PostgreSQL committed the order and then its cancellation; the cancellation's return to sale gets to Redis
        // first, while the seats are still the hold's, and the Worker's confirmation (slow, or redelivered) after it.
        await inventory.ReturnAsync(campaign.Id, order, hold!.Value, userId, null, 0, [3, 4]);
        await inventory.ConfirmAsync(campaign.Id, order, hold.Value, userId, null, 0, [3, 4]);

        Assert.Subset((await buyer.FreeSeatsAsync(campaign.Id)).ToHashSet(), new HashSet<int> { 3, 4 });
        Assert.Null(await inventory.GetHoldAsync(campaign.Id, hold.Value));
        // The buyer's count went back too: the whole per-user limit (4) can be held again.
        Assert.Equal(HttpStatusCode.Created, (await buyer.HoldSeatsAsync(campaign.Id, 3, 4, 5, 6)).Status);
    }

    [Fact]
    public async Task A_cancellation_returns_tickets_once_through_retries_redelivered_confirmations_and_a_rebuild()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10);
        var category = campaign.GeneralAdmissionId!.Value;
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, category, 2);
        var purchase = (await buyer.PurchaseAsync(campaign.Id, hold!.Value)).PurchaseId!.Value;
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);
        await fixture.WaitForRedisToConfirmAsync(campaign.Id, purchase);
        var userId = (await fixture.QueryAsync("SELECT \"Id\" FROM \"Users\" WHERE \"Email\" = $1", r => r.GetGuid(0), buyer.Email!))[0];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var inventory = new SeatInventory(redis);
        async Task<long> LeftInRedisAsync() => (long)await redis.GetDatabase().StringGetAsync($"{SeatInventory.Prefix(campaign.Id)}:ga:{category:N}");
        Task ConfirmAgainAsync() => inventory.ConfirmAsync(campaign.Id, purchase, hold.Value, userId, category, 2, []);
        Assert.Equal(8, await LeftInRedisAsync());

        Assert.Equal(HttpStatusCode.OK, (await buyer.PostAsync($"/api/orders/{purchase}/cancel", null)).Status);
        Assert.Equal(10, await LeftInRedisAsync());

        // A retried cancellation, and the order's confirmation delivered again, change nothing.
        Assert.Equal(HttpStatusCode.OK, (await buyer.PostAsync($"/api/orders/{purchase}/cancel", null)).Status);
        await ConfirmAgainAsync();
        Assert.Equal(10, await LeftInRedisAsync());

        // Nor after Redis's availability was rebuilt from PostgreSQL.
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.PostAsync($"/api/admin/campaigns/{campaign.Id}/reconcile", null)).Status);
        await ConfirmAgainAsync();
        Assert.Equal(10, await LeftInRedisAsync());
        Assert.Equal(0, await fixture.ScalarAsync("SELECT \"Sold\" FROM \"GeneralAdmissionCategories\" WHERE \"Id\" = $1", category));
        Assert.Equal(HttpStatusCode.Created, (await buyer.HoldGeneralAdmissionAsync(campaign.Id, category, 4)).Status);
    }

    [Fact]
    public async Task A_released_hold_returns_its_seats_and_another_buyers_hold_cannot_be_bought_or_released()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var alice = await fixture.NewCustomerAsync();
        var bob = await fixture.NewCustomerAsync();
        var (_, hold, _) = await alice.HoldSeatsAsync(campaign.Id, 2);

        Assert.Equal(HttpStatusCode.NotFound, (await bob.PurchaseAsync(campaign.Id, hold!.Value)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync($"/api/campaigns/{campaign.Id}/holds/{hold}")).Status);
        var taken = await bob.HoldSeatsAsync(campaign.Id, 2, 3);
        Assert.Equal(HttpStatusCode.Conflict, taken.Status);
        Assert.Equal([2], ((JsonArray)taken.Body!["takenSeats"]!).Select(s => (int)s!));

        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync($"/api/campaigns/{campaign.Id}/holds/{hold}")).Status);
        Assert.Equal(HttpStatusCode.Created, (await bob.HoldSeatsAsync(campaign.Id, 2, 3)).Status);
    }
}
