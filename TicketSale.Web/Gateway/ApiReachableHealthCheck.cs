using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TicketSale.Web.Gateway;

/// <summary>The Web is ready only when at least one Api replica answers through service discovery.</summary>
internal sealed class ApiReachableHealthCheck(IHttpClientFactory httpClientFactory) : IHealthCheck
{
    public const string HttpClientName = "api-health";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var client = httpClientFactory.CreateClient(HttpClientName);
            using var response = await client.GetAsync(new Uri($"{ApiGateway.ApiAddress}/alive"), cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"The Api answered {(int)response.StatusCode}.");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The Api is unreachable.", ex);
        }
    }
}
