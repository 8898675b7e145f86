using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace TicketSale.Sales.Tests;

[Collection(SaleCollection.Name)]
public sealed class SecurityTests(SaleFixture fixture)
{
    [Fact]
    public async Task A_cookie_session_needs_the_antiforgery_token_for_every_state_changing_request()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10);
        var customer = await fixture.NewCustomerAsync();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = fixture.Web };

        using var login = await browser.PostAsJsonAsync("/bff/login", new { email = customer.Email, password = "a long enough password" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (string)(await login.Content.ReadFromJsonAsync<JsonObject>())!["antiforgeryToken"]!;
        Assert.Contains(login.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ts-session=", StringComparison.Ordinal) && c.Contains("httponly", StringComparison.OrdinalIgnoreCase));

        var body = new { generalAdmissionCategoryId = campaign.GeneralAdmissionId, quantity = 1 };
        using var forged = await browser.PostAsJsonAsync($"/api/campaigns/{campaign.Id}/holds", body);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal("application/problem+json", forged.Content.Headers.ContentType?.MediaType);

        using var wrongToken = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/holds") { Content = JsonContent.Create(body) };
        wrongToken.Headers.Add("X-XSRF-TOKEN", token[..^3] + "abc");
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(wrongToken)).StatusCode);

        using var genuine = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/holds") { Content = JsonContent.Create(body) };
        genuine.Headers.Add("X-XSRF-TOKEN", token);
        Assert.Equal(HttpStatusCode.Created, (await browser.SendAsync(genuine)).StatusCode);

        // Reading needs no token; signing out does.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/orders")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.PostAsync("/bff/logout", null)).StatusCode);
    }

    [Theory]
    [InlineData("web", "/")]
    [InlineData("web", "/api/campaigns")]
    [InlineData("api", "/api/campaigns")]
    public async Task Responses_carry_the_security_headers(string resource, string path)
    {
        using var http = fixture.App.CreateHttpClient(resource);

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task A_campaign_named_with_markup_renders_as_inert_text_in_a_real_browser()
    {
        const string name = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>Gala";
        var created = await fixture.Admin.PostAsync("/api/admin/campaigns", new
        {
            name,
            eventAt = DateTimeOffset.UtcNow.AddDays(7),
            saleOpensAt = DateTimeOffset.UtcNow.AddMinutes(-1),
            saleClosesAt = DateTimeOffset.UtcNow.AddDays(1),
            perUserLimit = 4,
            cancellationAllowed = true,
            prices = Array.Empty<object>(),
            generalAdmission = new[] { new { name = "Floor", capacity = 10, priceCents = 1000L } },
        });
        var id = (string)created.Body!["id"]!;
        await fixture.ChangeCampaignAsync(HttpMethod.Post, $"/api/admin/campaigns/{id}/publish");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var dialogs = 0;
        page.Dialog += (_, dialog) => { dialogs++; _ = dialog.DismissAsync(); };

        var response = await page.GotoAsync(fixture.Web.ToString());
        Assert.Contains("script-src 'self'", (await response!.AllHeadersAsync())["content-security-policy"], StringComparison.Ordinal);
        var item = page.Locator($"li[data-campaign-id='{id}'] h2");
        await item.WaitForAsync();

        Assert.Equal(name, await item.TextContentAsync());
        Assert.Equal(0, await page.Locator("#campaigns img, #campaigns script").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__xss"));
        Assert.Equal(0, dialogs);
    }
}
