namespace TicketSale.Sales.Tests;

/// <summary>The invariants of docs/architecture.md, checked against PostgreSQL, Redis (through the seat map) and the gateway.</summary>
internal static class Invariants
{
    public static async Task AssertAllAsync(SaleFixture fixture, Campaign campaign, IReadOnlyCollection<Guid> acceptedPurchases)
    {
        // No seat sold twice.
        var doubleSold = await fixture.ScalarAsync(
            "SELECT count(*) FROM (SELECT 1 FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\" AND \"SeatIndex\" IS NOT NULL GROUP BY \"SeatIndex\" HAVING count(*) > 1) d",
            campaign.Id);
        Assert.Equal(0, doubleSold);

        // Sold ≤ capacity, and the counter agrees with the tickets.
        var generalAdmission = await fixture.QueryAsync(
            "SELECT g.\"Capacity\", g.\"Sold\", (SELECT count(*) FROM \"Tickets\" t WHERE t.\"GeneralAdmissionCategoryId\" = g.\"Id\" AND t.\"Active\") FROM \"GeneralAdmissionCategories\" g WHERE g.\"CampaignId\" = $1",
            r => (Capacity: r.GetInt32(0), Sold: r.GetInt32(1), Tickets: r.GetInt64(2)), campaign.Id);
        foreach (var g in generalAdmission)
        {
            Assert.InRange(g.Sold, 0, g.Capacity);
            Assert.Equal(g.Sold, g.Tickets);
        }

        var seatsSold = await fixture.ScalarAsync("SELECT count(*) FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\" AND \"SeatIndex\" IS NOT NULL", campaign.Id);
        Assert.InRange(seatsSold, 0, campaign.Seats);

        // Every accepted purchase resolved: confirmed with its order, or failed with its seats released.
        var outcomes = await fixture.WaitForOutcomesAsync(acceptedPurchases, TimeSpan.FromSeconds(60));
        var orders = (await fixture.QueryAsync("SELECT \"Id\" FROM \"Orders\" WHERE \"CampaignId\" = $1", r => r.GetGuid(0), campaign.Id)).ToHashSet();
        foreach (var (purchase, status) in outcomes)
        {
            Assert.Equal(status == "Confirmed", orders.Contains(purchase));
        }

        // Nobody charged twice, nobody charged without a ticket (once pending refunds have gone through).
        await WaitForNoPendingRefundsAsync(fixture);
        using var payments = fixture.Payments();
        var charges = (await payments.ChargesAsync()).ToDictionary(c => Guid.Parse((string)c["paymentKey"]!));
        foreach (var (purchase, status) in outcomes)
        {
            if (charges.TryGetValue(purchase, out var charge) && (string)charge["status"]! != "voided")
            {
                Assert.Equal(1, (int)charge["timesCharged"]!);
                Assert.Equal(status == "Confirmed", (string)charge["status"]! == "captured");
            }
            else
            {
                Assert.NotEqual("Confirmed", status);
            }
        }

        await AssertEveryCaptureHasATicketAsync(fixture);

        // Redis agrees with PostgreSQL: every sold seat shows as taken on the seat map.
        if (campaign.Seats > 0)
        {
            var sold = await fixture.QueryAsync("SELECT \"SeatIndex\" FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\" AND \"SeatIndex\" IS NOT NULL", r => r.GetInt32(0), campaign.Id);
            var free = (await fixture.Anonymous().FreeSeatsAsync(campaign.Id)).ToHashSet();
            Assert.DoesNotContain(sold, free.Contains);
        }
    }

    /// <summary>
    /// Read from the gateway's side: every capture in its ledger belongs to a confirmed purchase — whether or not the
    /// test knew of the purchase, and whether or not PostgreSQL ever heard of it. Captures still being decided (their
    /// purchase pending, or not yet written) get a moment.
    /// </summary>
    public static async Task AssertEveryCaptureHasATicketAsync(SaleFixture fixture)
    {
        using var payments = fixture.Payments();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var captured = (await payments.ChargesAsync()).Where(c => (string)c["status"]! == "captured").Select(c => Guid.Parse((string)c["paymentKey"]!)).ToArray();
            var confirmed = (await fixture.QueryAsync("SELECT \"Id\" FROM \"Purchases\" WHERE \"Id\" = ANY($1) AND \"Status\" = 'Confirmed'", r => r.GetGuid(0), captured)).ToHashSet();
            var unmatched = captured.Where(c => !confirmed.Contains(c)).ToList();
            if (unmatched.Count == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Captured without a confirmed purchase: {string.Join(", ", unmatched)}");
            await Task.Delay(500);
        }
    }

    public static async Task WaitForNoPendingRefundsAsync(SaleFixture fixture)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        long pending;
        while ((pending = await fixture.ScalarAsync("SELECT count(*) FROM \"Payments\" WHERE \"Status\" = 'RefundPending'")) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.Equal(0, pending);
    }
}
