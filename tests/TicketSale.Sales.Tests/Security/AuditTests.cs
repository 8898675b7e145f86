using System.Net;
using System.Text.Json.Nodes;

namespace TicketSale.Sales.Tests;

/// <summary>
/// What an investigator needs after an attack is in the logs as structured security events: failed and delayed
/// sign-ins, admins' changes, refunds. Read here from the services' console output, which the AppHost keeps in
/// the state folder's <c>logs/</c> (the dashboard shows the same records), and from the audit log the console queries.
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
        await Eventually.HoldsAsync(async () => (await fixture.Admin.GetAsync("/api/admin/audit?action=refund&limit=500")).Body!["entries"]!.AsArray()
            .Any(e => (string?)e!["subjectId"] == purchase.ToString() && (string)e["detail"]! == "refunded (the buyer cancelled the order)"), "the refund's audit entry");
    }

    [Fact]
    public async Task Sign_ins_refused_ones_and_an_admins_changes_are_lines_of_the_audit_log_newest_first_by_account_and_action()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync();
        var (signedIn, _, signIn) = await owner.ApiLoginAsync(email, SaleFixture.CustomerPassword);
        signIn.Dispose();
        Assert.Equal(HttpStatusCode.OK, signedIn);
        using var guesser = fixture.NewVisitor();
        (await guesser.ApiLoginAsync(email, "not the password")).Response.Dispose();
        var id = (string)(await fixture.Admin.GetAsync($"/api/admin/users?email={Uri.EscapeDataString(email)}")).Body!["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.PostAsync($"/api/admin/users/{id}/disable", new { })).Status);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.PostAsync($"/api/admin/users/{id}/enable", null)).Status);

        // Written a moment after the request (the audit writer batches), newest first.
        JsonArray entries = [];
        await Eventually.HoldsAsync(async () => (entries = (await fixture.Admin.GetAsync($"/api/admin/audit?account={Uri.EscapeDataString(email)}")).Body!["entries"]!.AsArray()).Count >= 4,
            "the account's four audit entries");
        Assert.Equal(["account-enabled", "account-disabled", "sign-in-failed", "sign-in"], entries.Select(e => (string)e!["action"]!));
        var failed = entries[2]!;
        Assert.Equal(guesser.Address.ToString(), (string)failed["address"]!);
        Assert.Null(failed["actorId"]);
        Assert.Equal(owner.Address.ToString(), (string)entries[3]!["address"]!);
        Assert.Equal(id, (string)entries[3]!["subjectId"]!);
        var adminId = (string)entries[0]!["actorId"]!;
        Assert.Equal(adminId, (string)entries[1]!["actorId"]!);
        Assert.NotEqual(id, adminId);
        Assert.True((long)entries[0]!["id"]! > (long)entries[1]!["id"]!);

        // By action: the admin's requests themselves, with their answers.
        var changes = (await fixture.Admin.GetAsync("/api/admin/audit?action=admin-change&limit=100")).Body!["entries"]!.AsArray();
        Assert.Contains(changes, e => (string)e!["detail"]! == $"POST /api/admin/users/{id}/disable: 200" && (string)e["actorId"]! == adminId);

        // A page at a time: the next page continues below the last one.
        var first = (await fixture.Admin.GetAsync($"/api/admin/audit?account={Uri.EscapeDataString(email)}&limit=2")).Body!;
        Assert.Equal(["account-enabled", "account-disabled"], first["entries"]!.AsArray().Select(e => (string)e!["action"]!));
        var second = (await fixture.Admin.GetAsync($"/api/admin/audit?account={Uri.EscapeDataString(email)}&limit=2&before={(long)first["before"]!}")).Body!;
        Assert.Equal(["sign-in-failed", "sign-in"], second["entries"]!.AsArray().Select(e => (string)e!["action"]!));

        var unknown = await fixture.Admin.GetAsync("/api/admin/audit?action=everything");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.NotNull(unknown.Body!["errors"]!["action"]);
        using var customer = fixture.NewVisitor();
        var customerEmail = await customer.RegisterAsync();
        var token = (string)(await customer.ApiLoginAsync(customerEmail, SaleFixture.CustomerPassword)).Body!["accessToken"]!;
        using var asCustomer = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.Web, "/api/admin/audit"));
        asCustomer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(asCustomer)).StatusCode);
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
