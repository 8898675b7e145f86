using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace TicketSale.Web.Gateway;

/// <summary>
/// The blue-green switch, for operators only (under <c>/internal</c>, which needs the management key): which Api
/// release takes the traffic, and the switch to another.
/// </summary>
internal static partial class ReleaseApi
{
    public static IEndpointRouteBuilder MapReleaseApi(this IEndpointRouteBuilder app)
    {
        var release = app.MapGroup("/internal/release").WithTags("Release");
        release.MapGet("/", (ApiRelease live) => TypedResults.Ok(new LiveRelease(live.Service)));
        release.MapPut("/", Results<Ok<LiveRelease>, ValidationProblem> (ReleaseSwitch request, ApiRelease live) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (request.Service is null || !ServiceName().IsMatch(request.Service))
            {
                errors["service"] = ["Give the release's service name: lower-case letters, digits and hyphens."];
            }

            var endpoints = (request.Endpoints ?? []).Select(e => Uri.TryCreate(e, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null).ToList();
            if (endpoints.Count == 0 || endpoints.Contains(null))
            {
                errors["endpoints"] = ["Give at least one replica, each as an absolute http or https address."];
            }

            if (errors.Count > 0)
            {
                return TypedResults.ValidationProblem(errors);
            }

            live.Switch(request.Service!, endpoints!);
            return TypedResults.Ok(new LiveRelease(live.Service));
        });
        return app;
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex ServiceName();
}

internal sealed record ReleaseSwitch(string? Service, IReadOnlyList<string>? Endpoints);

internal sealed record LiveRelease(string Service);
