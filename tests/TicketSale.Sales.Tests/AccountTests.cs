using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace TicketSale.Sales.Tests;

[Collection(SaleCollection.Name)]
public sealed class AccountTests(SaleFixture fixture)
{
    [Fact]
    public async Task Every_endpoint_demands_the_right_role()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 5);
        var customer = await fixture.NewCustomerAsync();
        var anonymous = fixture.Anonymous();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.HoldSeatsAsync(campaign.Id, 1)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/orders")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/admin/campaigns")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync("/api/admin/campaigns")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.PostAsync($"/api/admin/campaigns/{campaign.Id}/close", null)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.Admin.HoldSeatsAsync(campaign.Id, 1)).Status);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/api/campaigns/{campaign.Id}")).Status);
        var forged = new ApiClient(new HttpClient(), fixture.Web, customer.AccessToken![..^4] + "AAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/api/orders")).Status);
    }

    [Fact]
    public async Task An_accepted_access_token_is_remembered_only_as_itself_and_only_until_it_expires()
    {
        // Each Api replica remembers the tokens it validated (ValidatedTokenCache); what it remembers must not let a
        // payload through beside a signature that was accepted, nor let a token outlive its expiry.
        var lifetime = TimeSpan.FromSeconds(3);
        var alice = fixture.MintCustomer(Guid.NewGuid(), lifetime);
        var expires = DateTimeOffset.UtcNow + lifetime;
        for (var i = 0; i < 4; i++)
        {
            // Through the gateway's round-robin: both replicas see it, and the later requests find it remembered.
            Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/api/orders")).Status);
        }

        var token = alice.AccessToken!.Split('.');
        var otherPayload = fixture.MintCustomer(Guid.NewGuid()).AccessToken!.Split('.')[1];
        var forged = new ApiClient(new HttpClient(), fixture.Web, $"{token[0]}.{otherPayload}.{token[2]}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/api/orders")).Status);

        // Past the expiry and the 5 s of clock skew the Api allows.
        await Task.Delay(expires - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(6.5));
        Assert.Equal(HttpStatusCode.Unauthorized, (await alice.GetAsync("/api/orders")).Status);
    }

    [Fact]
    public async Task Refresh_tokens_rotate_and_signing_out_revokes_them()
    {
        var email = $"rotate-{Guid.NewGuid():N}@example.com";
        using var http = new HttpClient { BaseAddress = fixture.Web };
        (await http.PostAsJsonAsync("/api/auth/register", new { email, password = "a long enough password" })).EnsureSuccessStatusCode();
        var first = await (await http.PostAsJsonAsync("/api/auth/login", new { email, password = "a long enough password" })).Content.ReadFromJsonAsync<JsonObject>();

        using var refreshed = await http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = (string)first!["refreshToken"]! });
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var second = await refreshed.Content.ReadFromJsonAsync<JsonObject>();

        Assert.NotEqual((string)first["refreshToken"]!, (string)second!["refreshToken"]!);

        // Signing out ends the session: its current token and the older one (reused within the racing leeway, it would
        // otherwise still be redeemed; SessionTests covers reuse itself).
        (await http.PostAsJsonAsync("/api/auth/logout", new { refreshToken = (string)second["refreshToken"]! })).EnsureSuccessStatusCode();
        using var revoked = await http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = (string)second["refreshToken"]! });
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        using var older = await http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = (string)first["refreshToken"]! });
        Assert.Equal(HttpStatusCode.Unauthorized, older.StatusCode);
    }

    [Fact]
    public async Task Registering_twice_is_refused()
    {
        var customer = await fixture.NewCustomerAsync();
        var anonymous = fixture.Anonymous();
        Assert.Equal(HttpStatusCode.Conflict, (await anonymous.PostAsync("/api/auth/register", new { email = customer.Email, password = "another long password" })).Status);
    }
}
