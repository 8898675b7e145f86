namespace TicketSale.Sales.Tests;

/// <summary>The invariants of docs/architecture.md (<see cref="SaleInvariants"/>, which the bench checks too), asserted.</summary>
internal static class Invariants
{
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(60);

    public static async Task AssertAllAsync(SaleFixture fixture, Campaign campaign, IReadOnlyCollection<Guid> acceptedPurchases)
    {
        var report = await CheckAsync(fixture, check => check.CheckAsync([new CheckedCampaign(campaign.Id, campaign.Seats)], acceptedPurchases, s_settle));
        Assert.Empty(report.Violations);
    }

    /// <summary>Every capture in the payment gateway's ledger belongs to a confirmed purchase (<see cref="SaleInvariants.CapturesWithoutConfirmedPurchaseAsync"/>).</summary>
    public static async Task AssertEveryCaptureHasATicketAsync(SaleFixture fixture)
    {
        var unmatched = await CheckAsync(fixture, check => check.CapturesWithoutConfirmedPurchaseAsync(DateTime.UtcNow + s_settle));
        Assert.True(unmatched.Count == 0, $"Captured without a confirmed purchase: {string.Join(", ", unmatched)}");
    }

    public static async Task WaitForNoPendingRefundsAsync(SaleFixture fixture) =>
        Assert.Equal(0, await CheckAsync(fixture, check => check.PendingRefundsAsync(DateTime.UtcNow + s_settle)));

    private static async Task<T> CheckAsync<T>(SaleFixture fixture, Func<SaleInvariants, Task<T>> check)
    {
        using var site = new HttpClient { BaseAddress = fixture.Web };
        using var payments = fixture.PaymentsClient();
        return await check(new SaleInvariants(fixture.TicketsConnectionString, site, payments));
    }
}
