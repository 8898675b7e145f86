using Microsoft.AspNetCore.Http.HttpResults;
using TicketSale.Api.Sales;

namespace TicketSale.Api.Apis;

/// <summary>The sale's refusals as HTTP answers: problem details whose type tells a client one conflict from another.</summary>
public static class RefusalAnswers
{
    /// <summary>A refusal other than invalid input (<see cref="RefusalReason.Invalid"/> is a field error: <see cref="Problems.Invalid"/>).</summary>
    /// <param name="context">The request, whose answer gets a Retry-After when a dependency is down.</param>
    public static ProblemHttpResult ToProblem(this Refusal refusal, HttpContext? context = null) => refusal.Reason switch
    {
        RefusalReason.NotFound => Problems.NotFound(refusal.Detail),
        RefusalReason.StaleVersion => Problems.Conflict(refusal.Detail, "stale-version"),
        RefusalReason.NotEditable => Problems.Conflict(refusal.Detail, "campaign-not-editable"),
        RefusalReason.InvalidTransition => Problems.Conflict(refusal.Detail, "invalid-transition"),
        RefusalReason.NotOnSale => Problems.Conflict(refusal.Detail, "not-on-sale"),
        RefusalReason.AdmissionRequired => TypedResults.Problem(refusal.Detail, statusCode: StatusCodes.Status403Forbidden, title: "Admission required",
            type: "https://ticketsale.example/problems/admission-required"),
        RefusalReason.NotCancellable => Problems.Conflict(refusal.Detail, "cancellation-not-allowed"),
        RefusalReason.UsedUp => Problems.Conflict(refusal.Detail, "promo-code-used-up"),
        RefusalReason.Unavailable when context is not null => Problems.Unavailable(context, refusal.Detail, 10),
        RefusalReason.Unavailable => TypedResults.Problem(refusal.Detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable"),
        RefusalReason.Conflict => Problems.Conflict(refusal.Detail, refusal.ProblemType ?? "conflict"),
        _ => throw new InvalidOperationException($"No problem answer for {refusal}."),
    };
}
