using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace TicketSale.Sales.Tests;

/// <summary>
/// Guessing passwords slows the guesser down, doubling, and nobody else: no lock that anyone who knows an e-mail
/// address can set off, and no answer that tells which e-mail addresses have accounts.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class PasswordGuessingTests(SecurityFixture fixture)
{
    private const string Wrong = "not the password";

    [Fact]
    public async Task An_attackers_wrong_passwords_do_not_keep_the_owner_out_when_the_owner_signs_in_from_another_address()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync();
        using var attacker = fixture.NewVisitor();

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            answers.Add((await attacker.ApiLoginAsync(email, Wrong)).Status);
        }

        Assert.DoesNotContain(HttpStatusCode.Locked, answers);
        Assert.Contains(HttpStatusCode.TooManyRequests, answers);
        Assert.Equal(HttpStatusCode.OK, (await owner.ApiLoginAsync(email, SaleFixture.CustomerPassword)).Status);
        using var browser = fixture.NewVisitor();
        Assert.Equal(HttpStatusCode.OK, (await browser.BrowserLoginAsync(email, SaleFixture.CustomerPassword)).StatusCode);
    }

    [Fact]
    public async Task Guessing_the_fixed_admin_address_does_not_keep_the_admin_out()
    {
        const string admin = "admin@ticketsale.local";
        using var attacker = fixture.NewVisitor();
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            answers.Add((await attacker.ApiLoginAsync(admin, Wrong)).Status);
        }

        Assert.DoesNotContain(HttpStatusCode.Locked, answers);
        Assert.Contains(HttpStatusCode.TooManyRequests, answers);
        // The admin, from their own address, with their password and a one-time code.
        Assert.NotEmpty(await fixture.AdminSession.SignInAsync());
    }

    [Fact]
    public async Task The_guessing_address_waits_one_then_two_seconds_even_with_the_right_password_and_is_forgiven_after_it()
    {
        using var owner = fixture.NewVisitor();
        var email = await owner.RegisterAsync();

        var free = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            free.Add((await owner.ApiLoginAsync(email, Wrong)).Status);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 4), free);
        var waiting = await owner.ApiLoginAsync(email, SaleFixture.CustomerPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, waiting.Status);
        Assert.Equal(TimeSpan.FromSeconds(1), waiting.Response.Headers.RetryAfter?.Delta);

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await owner.ApiLoginAsync(email, Wrong)).Status);
        var longer = await owner.ApiLoginAsync(email, Wrong);
        Assert.Equal(HttpStatusCode.TooManyRequests, longer.Status);
        Assert.Equal(TimeSpan.FromSeconds(2), longer.Response.Headers.RetryAfter?.Delta);

        await Task.Delay(TimeSpan.FromSeconds(2.1));
        Assert.Equal(HttpStatusCode.OK, (await owner.ApiLoginAsync(email, SaleFixture.CustomerPassword)).Status);
        // Forgiven: the next mistakes start from nothing again.
        Assert.Equal(HttpStatusCode.Unauthorized, (await owner.ApiLoginAsync(email, Wrong)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await owner.ApiLoginAsync(email, Wrong)).Status);
    }

    [Fact]
    public async Task Unknown_and_known_email_addresses_answer_alike_in_status_body_headers_and_time()
    {
        using var registrar = fixture.NewVisitor();
        var known = await registrar.RegisterAsync();
        var unknown = $"nobody-{Guid.NewGuid():N}@example.com";
        using var guesser = fixture.NewVisitor();

        // The same sequence of answers: three free mistakes, a fourth that sets a wait, then refused while it lasts.
        var knownAnswers = new List<string>();
        var unknownAnswers = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            knownAnswers.Add(Describe(await guesser.ApiLoginAsync(known, Wrong)));
            unknownAnswers.Add(Describe(await guesser.ApiLoginAsync(unknown, Wrong)));
        }

        Assert.Equal(knownAnswers, unknownAnswers);

        // And in the same time: an unknown address costs a password hash as well (without one it answers in a
        // tenth of the time). Fresh addresses each, so that no wait comes into it.
        using var timer = fixture.NewVisitor();
        var knownEmails = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            knownEmails.Add(await registrar.RegisterAsync());
        }

        var knownTimes = new List<double>();
        var unknownTimes = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            knownTimes.Add(await TimeAsync(timer, knownEmails[i % 2]));
            unknownTimes.Add(await TimeAsync(timer, $"nobody-{Guid.NewGuid():N}@example.com"));
        }

        Assert.True(Median(unknownTimes) > 0.5 * Median(knownTimes),
            $"Unknown: {string.Join(", ", unknownTimes.Select(t => t.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))} ms; known: {string.Join(", ", knownTimes.Select(t => t.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))} ms.");
    }

    private static string Describe((HttpStatusCode Status, JsonObject? Body, HttpResponseMessage Response) answer) =>
        $"{(int)answer.Status} {answer.Body?["title"]} {answer.Body?["detail"]} retry-after={answer.Response.Headers.RetryAfter?.Delta}";

    private static async Task<double> TimeAsync(Visitor visitor, string email)
    {
        var watch = Stopwatch.StartNew();
        var (status, _, response) = await visitor.ApiLoginAsync(email, Wrong);
        watch.Stop();
        response.Dispose();
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
