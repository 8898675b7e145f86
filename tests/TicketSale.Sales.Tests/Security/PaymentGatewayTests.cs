using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace TicketSale.Sales.Tests;

/// <summary>
/// The payment gateway serves only its callers (anyone else could refund every order), and what it says it charged is
/// checked against the order, not believed.
/// </summary>
[Collection(SaleCollection.Name)]
public sealed class PaymentGatewayTests(SaleFixture fixture)
{
    [Fact]
    public async Task A_caller_without_the_gateways_key_can_neither_charge_refund_read_nor_reconfigure_it()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        var hold = (await buyer.HoldSeatsAsync(campaign.Id, 1)).HoldId!.Value;
        var purchase = (await buyer.PurchaseAsync(campaign.Id, hold)).PurchaseId!.Value;
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);

        using var anonymous = fixture.App.CreateHttpClient("payments");
        using var wrongKey = fixture.App.CreateHttpClient("payments");
        wrongKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-key");
        foreach (var attacker in new[] { anonymous, wrongKey })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.PostAsync($"/payments/{purchase:N}/refund", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.PostAsJsonAsync("/payments", new { paymentKey = Guid.NewGuid(), amountCents = 100 })).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.GetAsync($"/payments/{purchase:N}")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.GetAsync("/simulator/charges")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.PutAsJsonAsync("/simulator", new { outage = true })).StatusCode);
        }

        using var payments = fixture.Payments();
        var charge = (await payments.ChargesAsync()).Single(c => Guid.Parse((string)c["paymentKey"]!) == purchase);
        Assert.Equal("captured", (string)charge["status"]!);
        await Invariants.AssertAllAsync(fixture, campaign, [purchase]);
    }

    [Fact]
    public async Task A_gateway_charging_more_than_the_order_is_refunded_and_the_purchase_fails_with_its_seats_released()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = await fixture.NewCustomerAsync();
        using var payments = fixture.Payments();
        Guid purchase;
        try
        {
            await payments.SetAsync(overchargeCents: 100);
            var hold = (await buyer.HoldSeatsAsync(campaign.Id, 2)).HoldId!.Value;
            purchase = (await buyer.PurchaseAsync(campaign.Id, hold)).PurchaseId!.Value;
            Assert.Equal("Failed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);
        }
        finally
        {
            await payments.SetAsync();
        }

        var charge = (await payments.ChargesAsync()).Single(c => Guid.Parse((string)c["paymentKey"]!) == purchase);
        Assert.Equal("refunded", (string)charge["status"]!);
        Assert.Contains("instead of", (string)(await buyer.GetAsync($"/api/purchases/{purchase}")).Body!["failureReason"]!, StringComparison.Ordinal);
        await Eventually.HoldsAsync(async () => (await buyer.FreeSeatsAsync(campaign.Id)).Contains(2), "the seat to return to sale");
        await Invariants.AssertAllAsync(fixture, campaign, [purchase]);
    }
}
