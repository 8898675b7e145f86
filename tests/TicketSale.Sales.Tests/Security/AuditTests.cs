using System.Net;

namespace TicketSale.Sales.Tests;

/// <summary>
/// What an investigator needs after an attack is in the logs as structured security events: failed and delayed
/// sign-ins, admins' changes, refunds. Read here from the services' console output, which the AppHost keeps in
/// the state folder's <c>logs/</c> (the dashboard shows the same records).
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class AuditTests(SecurityFixture fixture)
{
    [Fact]
    public async Task Wrong_passwords_and_the_waits_they_set_are_logged_with_the_account_and_the_address()
    {
        using var guesser = fixture.NewVisitor();
        var email = $"audited-{Guid.NewGuid():N}@example.com";
        for (var i = 0; i < 5; i++)
        {
            (await guesser.ApiLoginAsync(email, "not the password")).Response.Dispose();
        }

        await LogShowsAsync("api", $"Wrong password for {email} from {guesser.Address}");
        await LogShowsAsync("api", $"Sign-in to {email} from {guesser.Address} refused");
    }

    [Fact]
    public async Task An_admins_changes_are_logged_with_the_admin_the_request_and_the_answer()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync();
        var id = (string)(await fixture.Admin.GetAsync($"/api/admin/users?email={Uri.EscapeDataString(email)}")).Body!["id"]!;

        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.PostAsync($"/api/admin/users/{id}/disable", new { })).Status);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.PostAsync($"/api/admin/users/{id}/enable", null)).Status);

        await LogShowsAsync("api", $"disabled account {id}");
        await LogShowsAsync("api", $"POST /api/admin/users/{id}/disable: 200");
        await LogShowsAsync("api", $"enabled account {id}");
    }

    [Fact]
    public async Task A_refund_is_logged_with_the_purchase_and_why()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10);
        var buyer = fixture.MintCustomer(Guid.NewGuid());
        var hold = (await buyer.HoldSeatsAsync(campaign.Id, 4)).HoldId!.Value;
        var purchase = (await buyer.PurchaseAsync(campaign.Id, hold)).PurchaseId!.Value;
        Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([purchase], TimeSpan.FromSeconds(30)))[purchase]);

        Assert.Equal(HttpStatusCode.OK, (await buyer.PostAsync($"/api/orders/{purchase}/cancel", null)).Status);

        await LogShowsAsync("api", $"Refund of purchase {purchase}: refunded (the buyer cancelled the order)");
    }

    private Task LogShowsAsync(string resource, string text) =>
        Eventually.HoldsAsync(async () =>
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(fixture.App.StateDirectory, "logs"), resource + "*.log"))
            {
                await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                if ((await reader.ReadToEndAsync()).Contains(text, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }, $"the {resource} log to show \"{text}\"", TimeSpan.FromSeconds(15));
}
