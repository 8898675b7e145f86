using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace TicketSale.Api.Infrastructure;

/// <summary>
/// Unreadable requests (malformed JSON, wrong types, oversized bodies) answer as problem details naming the field,
/// never as a 500.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
        {
            return false;
        }

        var errors = new Dictionary<string, string[]>();
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is JsonException json)
            {
                errors[string.IsNullOrEmpty(json.Path) ? "$" : json.Path] = ["The value is not valid JSON of the expected type."];
                break;
            }
        }

        httpContext.Response.StatusCode = badRequest.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = errors.Count > 0
                ? new HttpValidationProblemDetails(errors) { Status = badRequest.StatusCode, Title = "The request body could not be read." }
                : new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = badRequest.StatusCode, Title = "The request could not be read.", Detail = badRequest.Message },
        });
    }
}
