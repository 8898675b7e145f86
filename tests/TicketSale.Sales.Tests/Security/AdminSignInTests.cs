using System.Net;
using System.Text.Json.Nodes;
using OtpNet;

namespace TicketSale.Sales.Tests;

/// <summary>
/// An admin signs in with a one-time code besides the password, and a password that was given (the seeded admin's)
/// must be changed before anything else: a leaked admin password alone opens nothing.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class AdminSignInTests(SecurityFixture fixture)
{
    private const string Given = "a password somebody gave";

    [Fact]
    public async Task A_given_password_must_be_changed_then_an_authenticator_enrolled_then_every_sign_in_needs_a_fresh_code()
    {
        using var admin = fixture.NewVisitor();
        var email = await admin.RegisterAsync(Given);
        // An admin created with a password chosen by someone else, as the seeded one is.
        Assert.Equal(1, await fixture.ScalarAsync(
            "WITH promoted AS (UPDATE \"Users\" SET \"Role\" = 'admin', \"PasswordChangeRequired\" = true WHERE \"Email\" = $1 RETURNING 1) SELECT count(*) FROM promoted", email));

        var given = await admin.ApiLoginAsync(email, Given);
        Assert.Equal(HttpStatusCode.Forbidden, given.Status);
        Assert.EndsWith("/password-change-required", (string)given.Body!["type"]!, StringComparison.Ordinal);
        Assert.Null(given.Body["accessToken"]);
        using (var enrolBeforeChange = await admin.PostAsync("/api/auth/second-factor", new { email, password = Given }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, enrolBeforeChange.StatusCode);
        }

        const string chosen = "a password the admin chose";
        using (var changed = await admin.PostAsync("/api/auth/password", new { email, password = Given, newPassword = chosen }))
        {
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        }

        var unenrolled = await admin.ApiLoginAsync(email, chosen);
        Assert.Equal(HttpStatusCode.Forbidden, unenrolled.Status);
        Assert.EndsWith("/second-factor-enrollment-required", (string)unenrolled.Body!["type"]!, StringComparison.Ordinal);

        using var enrolled = await admin.PostAsync("/api/auth/second-factor", new { email, password = chosen });
        Assert.Equal(HttpStatusCode.OK, enrolled.StatusCode);
        var body = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<JsonObject>(enrolled.Content);
        Assert.StartsWith("otpauth://totp/", (string)body!["setupUri"]!, StringComparison.Ordinal);
        var codes = new Totp(Base32Encoding.ToBytes((string)body["secret"]!));
        using (var again = await admin.PostAsync("/api/auth/second-factor", new { email, password = chosen }))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        var withoutCode = await admin.ApiLoginAsync(email, chosen);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutCode.Status);
        Assert.EndsWith("/second-factor-required", (string)withoutCode.Body!["type"]!, StringComparison.Ordinal);

        var code = codes.ComputeTotp(DateTime.UtcNow);
        var signedIn = await admin.ApiLoginWithCodeAsync(email, chosen, code);
        Assert.Equal(HttpStatusCode.OK, signedIn.Status);
        Assert.Equal("admin", (string)signedIn.Body!["role"]!);

        // A code seen on the wire is spent.
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.ApiLoginWithCodeAsync(email, chosen, code)).Status);
    }

    [Fact]
    public async Task Guessing_one_time_codes_with_the_right_password_meets_the_same_waits_as_guessing_passwords()
    {
        using var admin = fixture.NewVisitor();
        var email = await admin.RegisterAsync();
        using (var enrolled = await admin.PostAsync("/api/auth/second-factor", new { email, password = SaleFixture.CustomerPassword }))
        {
            Assert.Equal(HttpStatusCode.OK, enrolled.StatusCode);
        }

        using var guesser = fixture.NewVisitor();
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add((await guesser.ApiLoginWithCodeAsync(email, SaleFixture.CustomerPassword, "000000")).Status);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, answers[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, answers);
        Assert.DoesNotContain(HttpStatusCode.OK, answers);
    }
}
