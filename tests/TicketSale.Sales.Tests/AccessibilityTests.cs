using System.Net;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Every page of the web app, for buyers and organizers, on a desktop and a phone-sized screen: axe-core finds no
/// serious or critical violation, nothing overflows the phone's width, and a screenshot of each is kept.
/// </summary>
[Collection(SaleCollection.Name)]
public sealed class AccessibilityTests(SaleFixture fixture, ITestOutputHelper output)
{
    private readonly WebPages _pages = new(fixture, output);

    [Fact]
    public async Task Every_buyer_page_passes_axe_and_fits_a_phone()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 8, seatsPerRow: 20, generalAdmission: 200);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 3, 4);
        var (_, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold!.Value);
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase!.Value], TimeSpan.FromSeconds(60)))[purchase.Value]);
        var soldOut = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 1);
        await fixture.BuyTicketsAsync(soldOut.Id, 0);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);

        foreach (var (device, viewport) in new[] { ("desktop", new ViewportSize { Width = 1280, Height = 900 }), ("phone", new ViewportSize { Width = 390, Height = 844 }) })
        {
            var anonymous = await _pages.OpenAsync(browser, "#/account", new() { ViewportSize = viewport });
            await anonymous.Locator("#register").WaitForAsync();
            await CheckAsync(anonymous, $"account-{device}");

            var page = await _pages.SignInAsync(browser, buyer.Email!, options: new() { ViewportSize = viewport });
            await page.Locator($"li[data-campaign-id='{campaign.Id}'] .left").Filter(new() { HasTextRegex = new("left") }).WaitForAsync();
            await CheckAsync(page, $"campaigns-{device}");

            await WebPages.GoToCampaignAsync(page, campaign.Id);
            await WebPages.ClickSeatAsync(page, 25);
            await CheckAsync(page, $"campaign-{device}");

            await page.Locator("#hold-seats").ClickAsync();
            await page.Locator("#countdown").WaitForAsync();
            await CheckAsync(page, $"hold-{device}");
            await page.Locator("#release").ClickAsync();
            await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("Released");

            await page.Locator("#nav-orders").ClickAsync();
            await page.Locator("#orders li[data-order-id]").First.WaitForAsync();
            await CheckAsync(page, $"orders-{device}");

            await page.Locator("#orders a.show-ticket").First.ClickAsync();
            await page.Locator("#ticket-qr").WaitForAsync();
            await CheckAsync(page, $"ticket-{device}");

            // Sold out: the waiting list, to join (desktop), then the place on it (phone, already joined).
            await WebPages.GoToCampaignAsync(page, soldOut.Id);
            if (device == "desktop")
            {
                await page.Locator("#join-waiting-list").ClickAsync();
            }

            await Assertions.Expect(page.Locator("#waiting-place")).ToContainTextAsync("number 1");
            await CheckAsync(page, $"waiting-list-{device}");
        }
    }

    [Fact]
    public async Task Every_organizer_page_passes_axe_and_fits_a_phone()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 5, seatsPerRow: 20, generalAdmission: 100, waitingRoom: true);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        foreach (var (device, viewport) in new[] { ("desktop", new ViewportSize { Width = 1280, Height = 900 }), ("phone", new ViewportSize { Width = 390, Height = 844 }) })
        {
            var suffix = device == "desktop" ? "" : "-phone";
            var page = await _pages.SignInAsAdminAsync(browser, new() { ViewportSize = viewport });
            await page.Locator("#admin-campaigns").WaitForAsync();
            await CheckAsync(page, "admin-console" + suffix);
            await page.GotoAsync(new Uri(fixture.Web, "/#/admin/venues").ToString());
            await page.Locator("#venue-preview canvas").WaitForAsync();
            await CheckAsync(page, "admin-venues" + suffix);
            await page.GotoAsync(new Uri(fixture.Web, "/#/admin/campaigns/new").ToString());
            await page.Locator("#campaign-form").WaitForAsync();
            await CheckAsync(page, "admin-campaign-editor" + suffix);
            await page.GotoAsync(new Uri(fixture.Web, $"/#/admin/campaigns/{campaign.Id}").ToString());
            await page.Locator("[data-figure=queue]").WaitForAsync();
            await CheckAsync(page, "admin-dashboard" + suffix);
            // Promo codes, reached from the dashboard: one made with the form is listed with its uses.
            await page.Locator("#promo-codes-link").ClickAsync();
            await page.Locator("#promo-new-code").FillAsync("A11Y-" + device.ToUpperInvariant());
            await page.Locator("#promo-new-kind").SelectOptionAsync("AmountOff");
            await page.Locator("#promo-new-value").FillAsync("250");
            await page.Locator("#promo-new-category").FillAsync("Floor");
            await page.Locator("#promo-new-budget").FillAsync("20");
            await page.Locator("#promo-new button[type=submit]").ClickAsync();
            var row = page.Locator($"#promo-codes tr[data-code='A11Y-{device.ToUpperInvariant()}']");
            await Assertions.Expect(row).ToContainTextAsync("€2.50 off");
            await Assertions.Expect(row.Locator(".uses")).ToHaveTextAsync("0 of 20");
            await CheckAsync(page, "admin-promo-codes" + suffix);
            // The audit log has the admin's sign-in of a moment ago; filtered by action, only such lines.
            await page.GotoAsync(new Uri(fixture.Web, "/#/admin/audit").ToString());
            await page.Locator("#audit tr[data-action='admin-change']").First.WaitForAsync();
            await CheckAsync(page, "admin-audit" + suffix);
            await page.Locator("#audit-action").SelectOptionAsync("sign-in");
            await page.Locator("#audit-filters button[type=submit]").ClickAsync();
            await page.WaitForFunctionAsync("() => { const rows = [...document.querySelectorAll('#audit tbody tr')]; return rows.length > 0 && rows.every(r => r.dataset.action === 'sign-in'); }");
            await page.GotoAsync(new Uri(fixture.Web, "/#/admin/webhooks").ToString());
            await page.Locator("#webhook-new").WaitForAsync();
            await CheckAsync(page, "admin-webhooks-form" + suffix);
            await page.GotoAsync(new Uri(fixture.Web, "/#/checkin").ToString());
            await page.Locator("#check-in").WaitForAsync();
            await CheckAsync(page, "door-checkin" + suffix);
        }

        // A customer who finds the console's address is told it is for organizers; the Api refuses its data anyway.
        var customer = await fixture.NewCustomerAsync();
        var stranger = await _pages.SignInAsync(browser, customer.Email!);
        await stranger.GotoAsync(new Uri(fixture.Web, "/#/admin").ToString());
        await Assertions.Expect(stranger.Locator("h1")).ToHaveTextAsync("Organizers only");
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync("/api/admin/campaigns")).Status);
    }

    private async Task CheckAsync(IPage page, string name)
    {
        await WebPages.ScreenshotAsync(page, name);
        Assert.Empty(await _pages.AccessibilityViolationsAsync(page));
        var (scrollWidth, innerWidth) = (await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"), await page.EvaluateAsync<int>("() => window.innerWidth"));
        Assert.True(scrollWidth <= innerWidth, $"{name}: the page is {scrollWidth} px wide in a {innerWidth} px window");
    }
}
