using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace TicketSale.Core.Http;

/// <summary>
/// The problem-details answers the API gives (the Api's, and the waiting room's at the gateway), in one place so their
/// types and titles stay consistent.
/// </summary>
public static class Problems
{
    /// <summary>Buying (holds, purchases, a waiting room's queue) needs an e-mail address the account has confirmed.</summary>
    public static ProblemHttpResult EmailNotVerified() =>
        TypedResults.Problem("Confirm your e-mail address first: follow the link sent to it (POST /api/auth/verify-email/resend sends another), then sign in again.",
            statusCode: StatusCodes.Status403Forbidden, title: "E-mail address not confirmed", type: "https://ticketsale.example/problems/email-not-verified");

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Conflict(string detail, string type, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict", type: "https://ticketsale.example/problems/" + type, extensions: extensions);

    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult Unavailable(HttpContext context, string detail, int retryAfterSeconds)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable");
    }
}
