using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Scalping basics: an account buys only once its owner has shown the e-mail address is theirs, with the link mailed
/// at registration. Before that it can neither hold, buy, nor take a place in a waiting room; the link cannot be forged
/// or stood in for by an access token.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class EmailVerificationTests(SecurityFixture fixture)
{
    [Fact]
    public async Task An_account_cannot_hold_buy_or_queue_until_its_address_is_confirmed_with_the_mailed_link()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10);
        var queued = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10, waitingRoom: true, admissionsPerSecond: 100);
        using var buyer = fixture.NewVisitor();
        var email = await buyer.RegisterAsync(confirm: false);
        var unconfirmed = await AccessTokenAsync(buyer, email);

        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Post, $"/api/campaigns/{campaign.Id}/holds", new { generalAdmissionCategoryId = campaign.GeneralAdmissionId, quantity = 1 }),
            (HttpMethod.Post, "/api/purchases", new { campaignId = campaign.Id, holdId = Guid.NewGuid() }),
            (HttpMethod.Post, $"/api/campaigns/{queued.Id}/waiting-room", null),
        })
        {
            using var refused = await SendAsync(buyer, method, path, unconfirmed, body);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("https://ticketsale.example/problems/email-not-verified", (string?)(await refused.Content.ReadFromJsonAsync<JsonObject>())!["type"]);
        }

        using (var confirmed = await buyer.PostAsync("/api/auth/verify-email", new { token = await fixture.Mailbox.VerificationTokenAsync(email) }))
        {
            Assert.Equal(HttpStatusCode.NoContent, confirmed.StatusCode);
        }

        // The next access token says so.
        var confirmedToken = await AccessTokenAsync(buyer, email);
        using var held = await SendAsync(buyer, HttpMethod.Post, $"/api/campaigns/{campaign.Id}/holds", confirmedToken,
            new { generalAdmissionCategoryId = campaign.GeneralAdmissionId, quantity = 1 });
        Assert.Equal(HttpStatusCode.Created, held.StatusCode);
        using var joined = await SendAsync(buyer, HttpMethod.Post, $"/api/campaigns/{queued.Id}/waiting-room", confirmedToken, null);
        Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
    }

    [Fact]
    public async Task A_confirmation_cannot_be_forged_taken_from_an_access_token_or_used_for_another_account()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync(confirm: false);
        var link = await fixture.Mailbox.VerificationTokenAsync(email);
        using var attacker = fixture.NewVisitor();
        var attackerEmail = await attacker.RegisterAsync(confirm: false);

        var tampered = link[..^3] + (link[^3] == 'A' ? "B" : "A") + link[^2..];
        foreach (var token in new[] { tampered, await AccessTokenAsync(attacker, attackerEmail), "not-a-token" })
        {
            using var refused = await attacker.PostAsync("/api/auth/verify-email", new { token });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        // The owner's own link confirms the owner, and only them.
        using (var confirmed = await attacker.PostAsync("/api/auth/verify-email", new { token = link }))
        {
            Assert.Equal(HttpStatusCode.NoContent, confirmed.StatusCode);
        }

        Assert.Equal(1L, await fixture.ScalarAsync("SELECT count(*) FROM \"Users\" WHERE \"Email\" = $1 AND \"EmailVerifiedAt\" IS NOT NULL", email));
        Assert.Equal(0L, await fixture.ScalarAsync("SELECT count(*) FROM \"Users\" WHERE \"Email\" = $1 AND \"EmailVerifiedAt\" IS NOT NULL", attackerEmail));
    }

    [Fact]
    public async Task Asking_for_another_link_answers_alike_for_known_and_unknown_addresses()
    {
        using var visitor = fixture.NewVisitor();
        var email = await visitor.RegisterAsync(confirm: false);
        using var known = await visitor.PostAsync("/api/auth/verify-email/resend", new { email });
        using var unknown = await visitor.PostAsync("/api/auth/verify-email/resend", new { email = $"nobody-{Guid.NewGuid():N}@example.com" });

        Assert.Equal(HttpStatusCode.Accepted, known.StatusCode);
        Assert.Equal(known.StatusCode, unknown.StatusCode);
        Assert.Equal(await known.Content.ReadAsStringAsync(), await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_link_opened_in_a_browser_confirms_the_address_and_leaves_no_token_in_the_address_bar()
    {
        using var visitor = fixture.NewVisitor();
        var email = await visitor.RegisterAsync(confirm: false);
        var token = await fixture.Mailbox.VerificationTokenAsync(email);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(fixture.Web, $"/?verify-email={Uri.EscapeDataString(token)}").ToString());

        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("Your e-mail address is confirmed", new() { Timeout = 15_000 });
        Assert.DoesNotContain("verify-email", page.Url, StringComparison.Ordinal);
        Assert.Equal(1L, await fixture.ScalarAsync("SELECT count(*) FROM \"Users\" WHERE \"Email\" = $1 AND \"EmailVerifiedAt\" IS NOT NULL", email));
    }

    private static async Task<string> AccessTokenAsync(Visitor visitor, string email)
    {
        var (status, body, response) = await visitor.ApiLoginAsync(email, SaleFixture.CustomerPassword);
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        return (string)body!["accessToken"]!;
    }

    private static async Task<HttpResponseMessage> SendAsync(Visitor visitor, HttpMethod method, string path, string token, object? body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (path == "/api/purchases")
        {
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        }

        return await visitor.SendAsync(request);
    }
}
