using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace TicketSale.Sales.Tests;

/// <summary>The application with Aspire's dashboard, which receives every service's telemetry.</summary>
public sealed class DashboardFixture : SaleFixture
{
    protected override bool WithDashboard => true;
}

/// <summary>What a developer sees in Aspire's dashboard, in a real browser.</summary>
public sealed class DashboardTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_purchase_is_one_trace_in_the_dashboard_from_the_gateway_through_an_api_replica_the_queue_and_the_worker_to_postgresql()
    {
        await fixture.BuyConfirmedAsync();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(fixture.App.DashboardLoginUrl.ToString());

        // The traces page lists the purchase's trace under the gateway's request, with spans of the Worker in it; the
        // services export on their own schedules, so the page is asked again until it is there.
        var traceId = "";
        await Eventually.HoldsAsync(async () =>
        {
            await page.GotoAsync(new Uri(fixture.App.DashboardLoginUrl, "/traces").ToString());
            var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "web: POST" }).Filter(new() { HasText = "worker" }).First;
            try
            {
                await row.WaitForAsync(new() { Timeout = 5_000 });
            }
            catch (TimeoutException)
            {
                return false;
            }

            traceId = Regex.Match(await row.InnerHTMLAsync(), "Trace Id: ([0-9a-f]{32})").Groups[1].Value;
            return traceId.Length == 32;
        }, "the purchase's trace is listed in the dashboard", s_wait);

        // Its detail: the gateway, an Api replica, the publish to RabbitMQ, the Worker's processing, the payment, and
        // the purchase's writes to PostgreSQL.
        await page.GotoAsync(new Uri(fixture.App.DashboardLoginUrl, $"/traces/detail/{traceId}").ToString());
        var detail = page.Locator("body");
        foreach (var expected in new[] { "POST /api/purchases", "MSG rabbitmq purchases", "DATA postgresql record purchase", "POST /payments", "DATA postgresql write order" })
        {
            await Assertions.Expect(detail).ToContainTextAsync(expected, new() { Timeout = (float)s_wait.TotalMilliseconds });
        }

        var text = await detail.InnerTextAsync();
        foreach (var resource in new[] { "web", "worker", "payments" })
        {
            Assert.Contains(resource, text, StringComparison.Ordinal);
        }

        Assert.Matches("api-[a-z]{8}", text);
    }
}
