using System.Diagnostics;
using System.Net;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Sign-ins through the browser path are made by the gateway on the browser's behalf: each must count against the
/// browser's address, not the gateway's, or one busy address (or one attacker) refuses everyone.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class SignInBehindTheGatewayTests(SecurityFixture fixture)
{
    [Fact]
    public async Task Thirty_buyers_signing_in_at_once_through_the_browser_path_each_from_their_own_address_all_get_in()
    {
        var buyers = Enumerable.Range(0, 30).Select(_ => fixture.NewVisitor()).ToList();
        try
        {
            var emails = await Task.WhenAll(buyers.Select(b => b.RegisterAsync()));

            var signIns = await Task.WhenAll(buyers.Select((b, i) => b.BrowserLoginAsync(emails[i], SaleFixture.CustomerPassword)));

            Assert.All(signIns, s => Assert.Equal(HttpStatusCode.OK, s.StatusCode));
            var orders = await Task.WhenAll(buyers.Select(b => b.GetAsync("/api/orders")));
            Assert.All(orders, o => Assert.Equal(HttpStatusCode.OK, o.StatusCode));
        }
        finally
        {
            buyers.ForEach(b => b.Dispose());
        }
    }

    [Fact]
    public async Task Wrong_sign_ins_from_one_address_neither_refuse_nor_slow_a_buyer_signing_in_from_another()
    {
        using var buyer = fixture.NewVisitor();
        var email = await buyer.RegisterAsync();
        using var attacker = fixture.NewVisitor();

        var attempts = new List<HttpStatusCode>();
        for (var i = 0; i < 25; i++)
        {
            using var attempt = await attacker.BrowserLoginAsync(i % 2 == 0 ? email : $"nobody-{Guid.NewGuid():N}@example.com", "not the password");
            attempts.Add(attempt.StatusCode);
        }

        Assert.DoesNotContain(HttpStatusCode.OK, attempts);
        Assert.Contains(HttpStatusCode.TooManyRequests, attempts);

        // At once, without a retry: the attacker's refusals were not the buyer's.
        var watch = Stopwatch.StartNew();
        using var signIn = await buyer.BrowserLoginAsync(email, SaleFixture.CustomerPassword);
        watch.Stop();
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.5), $"The sign-in took {watch.Elapsed.TotalSeconds:F1} s.");
    }

    [Fact]
    public async Task A_session_whose_renewal_is_refused_for_now_is_kept_and_works_once_the_api_accepts_again()
    {
        using var buyer = fixture.NewVisitor();
        var email = await buyer.RegisterAsync();
        (await buyer.BrowserLoginAsync(email, SaleFixture.CustomerPassword)).EnsureSuccessStatusCode();
        // Renewed once less than a third of the access token's life is left.
        await Task.Delay(SecurityFixture.AccessTokenLifetime * 0.7);

        // The buyer's address spends its sign-in budget at the Api (a script on the same network, say).
        using var neighbour = new Visitor(fixture.Web, buyer.Address);
        var answers = new List<HttpStatusCode>();
        while (answers.Count < 30 && !answers.Contains(HttpStatusCode.TooManyRequests))
        {
            using var attempt = await neighbour.PostAsync("/api/auth/login", new { email = $"nobody-{Guid.NewGuid():N}@example.com", password = "not the password" });
            answers.Add(attempt.StatusCode);
        }

        Assert.True(answers.Contains(HttpStatusCode.TooManyRequests), string.Join(", ", answers));
        using var refused = await buyer.GetAsync("/api/orders");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.NotNull(buyer.SessionCookie);

        await Task.Delay(retryAfter.Value + TimeSpan.FromMilliseconds(300));
        using var kept = await buyer.GetAsync("/api/orders");
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
    }
}
