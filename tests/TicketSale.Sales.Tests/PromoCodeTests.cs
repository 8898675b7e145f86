using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;

namespace TicketSale.Sales.Tests;

/// <summary>Promo codes: the price before the purchase, and a budget of uses that concurrency cannot overspend.</summary>
[Collection(SaleCollection.Name)]
public sealed class PromoCodeTests(SaleFixture fixture)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_thousand_parallel_purchases_with_a_code_of_a_hundred_uses_consume_exactly_a_hundred()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, perUserLimit: 10, generalAdmission: 1000);
        var code = await CreateCodeAsync(campaign, "FLASH-" + Guid.NewGuid().ToString("N")[..6], "Percent", 10, budget: 100);
        var buyers = await fixture.NewCustomersAsync(100);
        var holds = new ConcurrentBag<(ApiClient Buyer, Guid Hold)>();
        using var gate = new SemaphoreSlim(256);
        await Task.WhenAll(Enumerable.Range(0, 1000).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var buyer = buyers[i % buyers.Count];
                var (status, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 1);
                Assert.Equal(HttpStatusCode.Created, status);
                holds.Add((buyer, hold!.Value));
            }
            finally
            {
                gate.Release();
            }
        }));
        var held = holds.ToList();
        Assert.Equal(1000, held.Count);

        // All at once: every purchase asks for the code.
        var answers = await Task.WhenAll(held.Select(async h => await h.Buyer.PurchaseAsync(campaign.Id, h.Hold, promoCode: code.ToLowerInvariant())));

        var accepted = answers.Where(a => a.Status == HttpStatusCode.Accepted).Select(a => a.PurchaseId!.Value).ToList();
        Assert.Equal(100, accepted.Count);
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.Accepted), a =>
        {
            Assert.Equal(HttpStatusCode.Conflict, a.Status);
            Assert.EndsWith("/promo-code-used-up", (string)a.Response.Body!["type"]!, StringComparison.Ordinal);
        });

        var outcomes = await fixture.WaitForOutcomesAsync(accepted, s_wait);
        Assert.All(outcomes.Values, o => Assert.Equal("Confirmed", o));
        Assert.Equal(100, await fixture.ScalarAsync("SELECT \"Used\" FROM \"PromoCodes\" WHERE \"Code\" = $1 AND \"CampaignId\" = $2", code, campaign.Id));
        Assert.Equal(100, await fixture.ScalarAsync("SELECT count(*) FROM \"PromoRedemptions\" WHERE \"CampaignId\" = $1", campaign.Id));
        // Each of the hundred paid the discounted price (€15.00 less 10 %), and nobody else got the discount.
        Assert.Equal(100, await fixture.ScalarAsync("SELECT count(*) FROM \"Orders\" WHERE \"CampaignId\" = $1 AND \"TotalCents\" = 1350", campaign.Id));
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM \"Orders\" WHERE \"CampaignId\" = $1 AND \"TotalCents\" <> 1350", campaign.Id));
        using var payments = fixture.Payments();
        var charged = (await payments.ChargesAsync()).Where(c => accepted.Contains(Guid.Parse((string)c["paymentKey"]!))).ToList();
        Assert.Equal(100, charged.Count);
        Assert.All(charged, c => Assert.Equal(1350, (long)c["amountCents"]!));
        await Invariants.AssertAllAsync(fixture, campaign, accepted);

        // A buyer refused the code still holds the tickets, and can buy them without it.
        var (refusedBuyer, refusedHold) = held[Array.FindIndex(answers, a => a.Status != HttpStatusCode.Accepted)];
        var (withoutCode, purchase, _) = await refusedBuyer.PurchaseAsync(campaign.Id, refusedHold);
        Assert.Equal(HttpStatusCode.Accepted, withoutCode);
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase!.Value], s_wait))[purchase.Value]);
    }

    [Fact]
    public async Task The_price_is_shown_before_the_purchase_and_a_failed_or_cancelled_purchase_gives_its_use_back()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var code = await CreateCodeAsync(campaign, "SAVE5-" + Guid.NewGuid().ToString("N")[..6], "AmountOff", 500, budget: 1, category: "STANDARD");
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 1, 2);

        var plain = await buyer.GetAsync($"/api/campaigns/{campaign.Id}/holds/{hold}/price");
        Assert.Equal(HttpStatusCode.OK, plain.Status);
        Assert.Equal(8400, (long)plain.Body!["amountCents"]!);
        var quoted = await buyer.GetAsync($"/api/campaigns/{campaign.Id}/holds/{hold}/price?promoCode={code.ToLowerInvariant()}");
        Assert.Equal(HttpStatusCode.OK, quoted.Status);
        Assert.Equal(8400, (long)quoted.Body!["totalCents"]!);
        Assert.Equal(1000, (long)quoted.Body!["discountCents"]!);
        Assert.Equal(7400, (long)quoted.Body!["amountCents"]!);
        Assert.Equal(1, (int)quoted.Body!["usesLeft"]!);

        var unknown = await buyer.GetAsync($"/api/campaigns/{campaign.Id}/holds/{hold}/price?promoCode=NOPE-{Guid.NewGuid().ToString("N")[..8]}");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.NotNull(unknown.Body!["errors"]!["promoCode"]);

        // A purchase that fails (the gateway charges a cent too much: the Worker refunds it and fails the purchase)
        // gives the code's one use back.
        using var payments = fixture.Payments();
        await payments.SetAsync(overchargeCents: 1);
        Guid failed;
        try
        {
            var (status, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold!.Value, promoCode: code);
            Assert.Equal(HttpStatusCode.Accepted, status);
            failed = purchase!.Value;
            Assert.Equal("Failed", (await fixture.WaitForOutcomesAsync([failed], s_wait))[failed]);
        }
        finally
        {
            await payments.SetAsync();
        }

        Assert.Equal(0, await fixture.ScalarAsync("SELECT \"Used\" FROM \"PromoCodes\" WHERE \"Code\" = $1", code));

        // Bought with the code: its budget of one is spent, and another buyer is refused it, before and at the purchase.
        var (_, again, _) = await buyer.HoldSeatsAsync(campaign.Id, 3, 4);
        var (bought, order, _) = await buyer.PurchaseAsync(campaign.Id, again!.Value, promoCode: code);
        Assert.Equal(HttpStatusCode.Accepted, bought);
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([order!.Value], s_wait))[order.Value]);
        Assert.Equal(7400, await fixture.ScalarAsync("SELECT \"TotalCents\" FROM \"Orders\" WHERE \"Id\" = $1", order.Value));

        var other = await fixture.NewCustomerAsync();
        var (_, othersHold, _) = await other.HoldSeatsAsync(campaign.Id, 6);
        var usedUp = await other.GetAsync($"/api/campaigns/{campaign.Id}/holds/{othersHold}/price?promoCode={code}");
        Assert.Equal(HttpStatusCode.Conflict, usedUp.Status);
        var (refused, _, refusal) = await other.PurchaseAsync(campaign.Id, othersHold!.Value, promoCode: code);
        Assert.Equal(HttpStatusCode.Conflict, refused);
        Assert.EndsWith("/promo-code-used-up", (string)refusal.Body!["type"]!, StringComparison.Ordinal);
        // The refused purchase left the hold as it was: it can be bought without the code.
        var (boughtWithout, _, _) = await other.PurchaseAsync(campaign.Id, othersHold.Value);
        Assert.Equal(HttpStatusCode.Accepted, boughtWithout);

        await Invariants.AssertAllAsync(fixture, campaign, [failed, order.Value]);

        // Cancelling the order (refunded) gives the use back: another buyer may use it.
        var cancelled = await buyer.PostAsync($"/api/orders/{order}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.Status);
        Assert.Equal(0, await fixture.ScalarAsync("SELECT \"Used\" FROM \"PromoCodes\" WHERE \"Code\" = $1", code));
        var (_, lastHold, _) = await other.HoldSeatsAsync(campaign.Id, 8);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync($"/api/campaigns/{campaign.Id}/holds/{lastHold}/price?promoCode={code}")).Status);
    }

    [Fact]
    public async Task A_code_that_does_not_apply_or_is_not_valid_is_refused_with_the_field_named()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 4, generalAdmission: 10);
        var code = await CreateCodeAsync(campaign, "FLOOR-" + Guid.NewGuid().ToString("N")[..6], "Percent", 50, budget: 5, category: "Floor");

        // On the floor only: a seat's hold gets a field error, and so does its purchase, which leaves the hold alone.
        var buyer = await fixture.NewCustomerAsync();
        var (_, seatHold, _) = await buyer.HoldSeatsAsync(campaign.Id, 0);
        var price = await buyer.GetAsync($"/api/campaigns/{campaign.Id}/holds/{seatHold}/price?promoCode={code}");
        Assert.Equal(HttpStatusCode.BadRequest, price.Status);
        Assert.Contains("Floor", (string)price.Body!["errors"]!["promoCode"]![0]!, StringComparison.Ordinal);
        var (status, _, refusal) = await buyer.PurchaseAsync(campaign.Id, seatHold!.Value, promoCode: code);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(refusal.Body!["errors"]!["promoCode"]);
        var (_, floorHold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 2);
        var floor = await buyer.GetAsync($"/api/campaigns/{campaign.Id}/holds/{floorHold}/price?promoCode={code}");
        Assert.Equal(HttpStatusCode.OK, floor.Status);
        Assert.Equal(1500, (long)floor.Body!["discountCents"]!);

        // The console's checks: a percentage over 100, an unknown category, a code twice, a malformed code.
        foreach (var (body, field) in new (object Body, string Field)[]
        {
            (new { code = "TOO-MUCH", kind = "Percent", value = 101, budget = 1 }, "Value"),
            (new { code = "NO-SUCH", kind = "AmountOff", value = 100, category = "Balcony", budget = 1 }, "Category"),
            (new { code = code.ToLowerInvariant(), kind = "Percent", value = 5, budget = 1 }, "Code"),
            (new { code = "a b", kind = "Percent", value = 5, budget = 1 }, "Code"),
            (new { code = "ZERO-USES", kind = "Percent", value = 5, budget = 0 }, "Budget"),
        })
        {
            var created = await fixture.Admin.PostAsync($"/api/admin/campaigns/{campaign.Id}/promo-codes", body);
            Assert.Equal(HttpStatusCode.BadRequest, created.Status);
            Assert.NotNull(((JsonObject)created.Body!["errors"]!).FirstOrDefault(e => string.Equals(e.Key, field, StringComparison.OrdinalIgnoreCase)).Value);
        }

        var list = await fixture.Admin.GetAsync($"/api/admin/campaigns/{campaign.Id}/promo-codes");
        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Equal(code, (string)Assert.Single(list.Body!.AsArray())!["code"]!);
        Assert.Equal(HttpStatusCode.Forbidden, (await buyer.GetAsync($"/api/admin/campaigns/{campaign.Id}/promo-codes")).Status);
    }

    private async Task<string> CreateCodeAsync(Campaign campaign, string code, string kind, long value, int budget, string? category = null)
    {
        var created = await fixture.Admin.PostAsync($"/api/admin/campaigns/{campaign.Id}/promo-codes", new { code, kind, value, category, budget });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return (string)created.Body!["code"]!;
    }
}
