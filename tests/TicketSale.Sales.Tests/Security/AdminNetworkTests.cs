using System.Net;
using System.Net.Http.Headers;

namespace TicketSale.Sales.Tests;

/// <summary>Admin routes can be limited to the operators' networks: a stolen admin token is of no use elsewhere.</summary>
[Collection(SecurityCollection.Name)]
public sealed class AdminNetworkTests(SecurityFixture fixture)
{
    [Fact]
    public async Task An_admin_token_used_from_outside_the_allowed_networks_is_refused_and_changes_nothing()
    {
        var token = await fixture.AdminTokenAsync();
        using var outsider = fixture.NewVisitor();

        using var list = new HttpRequestMessage(HttpMethod.Get, "/api/admin/campaigns");
        list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.SendAsync(list)).StatusCode);

        var name = "Outsider " + Guid.NewGuid().ToString("N")[..6];
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/admin/venues")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { name, sections = new[] { new { name = "A", priceCategory = "a", rows = 1, seatsPerRow = 1 } } }),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.SendAsync(create)).StatusCode);
        Assert.Empty(await fixture.QueryAsync("SELECT 1 FROM \"Venues\" WHERE \"Name\" = $1", r => r.GetInt32(0), name));

        // From the allowed network the same token works.
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.GetAsync("/api/admin/campaigns")).Status);
    }
}
