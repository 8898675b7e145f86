using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TicketSale.Web.Gateway;

/// <summary>
/// The gateway is ready when a purchase can be accepted through it: an Api replica answers through service discovery
/// and reports Redis (holds, pins) and the broker (the queue) healthy. What only delays purchases — PostgreSQL down,
/// no Worker consuming — makes it Degraded, still ready: purchases are accepted and wait in the queue.
/// </summary>
internal sealed class PurchasePathHealthCheck(IHttpClientFactory httpClientFactory, IConfiguration configuration, ApiRelease release) : IHealthCheck
{
    public const string HttpClientName = "api-health";

    /// <summary>The Api's checks without which no purchase can be accepted.</summary>
    private static readonly string[] s_required = ["cache", "messaging"];

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        JsonObject? checks;
        try
        {
            using var client = httpClientFactory.CreateClient(HttpClientName);
            // The Api answers 503 with the same report when a check fails: read it either way.
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(release.Address, "/health"));
            OperatorAccess.Authorize(request, configuration);
            using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            checks = (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken).ConfigureAwait(false))?["checks"]?.AsObject();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or System.Text.Json.JsonException)
        {
            return HealthCheckResult.Unhealthy("The Api is unreachable.", ex);
        }

        if (checks is null)
        {
            return HealthCheckResult.Unhealthy("The Api gave no health report.");
        }

        var notHealthy = checks.Where(c => (string?)c.Value?["status"] != nameof(HealthStatus.Healthy))
            .Select(c => $"{c.Key}: {(string?)c.Value?["status"]} ({(string?)c.Value?["description"]})").ToList();
        if (s_required.Any(name => (string?)checks[name]?["status"] != nameof(HealthStatus.Healthy)))
        {
            return HealthCheckResult.Unhealthy("Purchases cannot be accepted: " + string.Join("; ", notHealthy));
        }

        return notHealthy.Count == 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Degraded("Purchases are accepted but delayed: " + string.Join("; ", notHealthy));
    }
}
