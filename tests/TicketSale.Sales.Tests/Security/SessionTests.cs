using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Sessions end when they should: at sign-out (a copied cookie is worthless after it), when a refresh token is used
/// twice (it was copied), at their absolute lifetime, and when an admin disables the account. Tokens are never cached.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class SessionTests(SecurityFixture fixture)
{
    [Fact]
    public async Task A_cookie_copied_before_the_browser_signs_out_cannot_renew_the_session_afterwards()
    {
        using var buyer = fixture.NewVisitor();
        var email = await buyer.RegisterAsync();
        (await buyer.BrowserLoginAsync(email, SaleFixture.CustomerPassword)).EnsureSuccessStatusCode();
        var copied = buyer.SessionCookie;
        Assert.NotNull(copied);

        Assert.Equal(HttpStatusCode.NoContent, (await buyer.BrowserLogoutAsync()).StatusCode);

        using var thief = fixture.NewVisitor();
        thief.Cookies.Add(fixture.Web, new Cookie("ts-session", copied));
        // Once the access token inside needs renewing, the refresh token it carries must be dead at the Api.
        await Task.Delay(SecurityFixture.AccessTokenLifetime * 0.7);
        Assert.Equal(HttpStatusCode.Unauthorized, (await thief.GetAsync("/api/orders")).StatusCode);
    }

    [Fact]
    public async Task A_refresh_token_used_twice_ends_the_whole_session_the_current_token_included()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync();
        var first = await SignInAsync(owner, email);
        var second = await RefreshAsync(owner, first);
        Assert.Equal(HttpStatusCode.OK, second.Status);

        // Past the leeway for a browser's racing requests, the old token comes back: somebody copied it.
        await Task.Delay(SecurityFixture.RefreshReuseLeeway + TimeSpan.FromMilliseconds(300));
        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(owner, first)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(owner, second.RefreshToken!)).Status);
    }

    [Fact]
    public async Task Two_renewals_racing_with_one_refresh_token_both_succeed_within_the_leeway()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync();
        var first = await SignInAsync(owner, email);

        var racing = await Task.WhenAll(RefreshAsync(owner, first), RefreshAsync(owner, first));

        Assert.All(racing, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(owner, racing[0].RefreshToken!)).Status);
    }

    [Fact]
    public async Task A_session_ends_at_its_absolute_lifetime_however_often_it_is_renewed()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync();
        var signedIn = DateTimeOffset.UtcNow;
        var token = await SignInAsync(owner, email);

        while (DateTimeOffset.UtcNow - signedIn < SecurityFixture.SessionLifetime - TimeSpan.FromSeconds(5))
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            var renewed = await RefreshAsync(owner, token);
            Assert.Equal(HttpStatusCode.OK, renewed.Status);
            token = renewed.RefreshToken!;
        }

        await Task.Delay(signedIn + SecurityFixture.SessionLifetime + TimeSpan.FromSeconds(1) - DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(owner, token)).Status);
    }

    [Fact]
    public async Task A_disabled_account_can_neither_renew_its_session_nor_sign_in_until_enabled_again()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync();
        var refresh = await SignInAsync(owner, email);
        var account = await fixture.Admin.GetAsync($"/api/admin/users?email={Uri.EscapeDataString(email)}");
        Assert.Equal(HttpStatusCode.OK, account.Status);
        var id = (string)account.Body!["id"]!;

        var disabled = await fixture.Admin.PostAsync($"/api/admin/users/{id}/disable", new { });
        Assert.Equal(HttpStatusCode.OK, disabled.Status);
        Assert.NotNull(disabled.Body!["disabledUntil"]);

        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(owner, refresh)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.ApiLoginAsync(email, SaleFixture.CustomerPassword)).Status);

        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.PostAsync($"/api/admin/users/{id}/enable", null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.ApiLoginAsync(email, SaleFixture.CustomerPassword)).Status);
    }

    [Fact]
    public async Task Answers_that_carry_tokens_or_session_secrets_are_never_stored_by_a_cache()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync();
        var (status, body, login) = await owner.ApiLoginAsync(email, SaleFixture.CustomerPassword);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(login.Headers.CacheControl?.NoStore);
        using var refreshed = await owner.PostAsync("/api/auth/refresh", new { refreshToken = (string)body!["refreshToken"]! });
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        Assert.True(refreshed.Headers.CacheControl?.NoStore);

        using var browserLogin = await owner.BrowserLoginAsync(email, SaleFixture.CustomerPassword);
        Assert.Equal(HttpStatusCode.OK, browserLogin.StatusCode);
        Assert.True(browserLogin.Headers.CacheControl?.NoStore);
        using var session = await owner.GetAsync("/bff/session");
        Assert.True(session.Headers.CacheControl?.NoStore);
    }

    private static async Task<string> SignInAsync(Visitor visitor, string email)
    {
        var (status, body, response) = await visitor.ApiLoginAsync(email, SaleFixture.CustomerPassword);
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        return (string)body!["refreshToken"]!;
    }

    private static async Task<(HttpStatusCode Status, string? RefreshToken)> RefreshAsync(Visitor visitor, string refreshToken)
    {
        using var response = await visitor.PostAsync("/api/auth/refresh", new { refreshToken });
        var body = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
        return (response.StatusCode, (string?)body?["refreshToken"]);
    }
}
