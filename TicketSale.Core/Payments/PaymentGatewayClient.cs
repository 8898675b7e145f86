using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace TicketSale.Core.Payments;

/// <summary>
/// The payment gateway's HTTP API. Every call is idempotent on the payment key (the purchase id), so the resilience
/// handler's retries, and redelivered messages, can never charge anyone twice.
/// </summary>
public sealed class PaymentGatewayClient(HttpClient http)
{
    /// <summary>The service-discovery name of the gateway.</summary>
    public const string BaseAddress = "http://payments";

    /// <summary>Where the gateway's API key is configured (the AppHost's generated <c>payments-key</c>).</summary>
    public const string ApiKeySetting = "Payments:ApiKey";

    /// <summary>The client's address and credentials; its resilience is the caller's to choose.</summary>
    public static IHttpClientBuilder AddPaymentGatewayClient(IServiceCollection services) =>
        services.AddHttpClient<PaymentGatewayClient>((provider, http) =>
        {
            http.BaseAddress = new Uri(BaseAddress);
            if (provider.GetRequiredService<IConfiguration>()[ApiKeySetting] is { Length: > 0 } key)
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
        });

    public async Task<Charge> ChargeAsync(Guid paymentKey, long amountCents, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("/payments", new ChargeRequest(paymentKey, amountCents), cancellationToken);
        if (response.StatusCode is HttpStatusCode.PaymentRequired or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity)
        {
            throw new PaymentDeclinedException(await response.Content.ReadAsStringAsync(cancellationToken));
        }

        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Charge>(cancellationToken))!;
    }

    /// <summary>
    /// Refunds the charge for a key, or voids a key never charged (a charge for it arriving later is then declined).
    /// True when money was refunded, false when nothing had been charged.
    /// </summary>
    public async Task<bool> RefundAsync(Guid paymentKey, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync($"/payments/{paymentKey:N}/refund", content: null, cancellationToken);
        response.EnsureSuccessStatusCode();
        var charge = await response.Content.ReadFromJsonAsync<Charge>(cancellationToken);
        return charge?.Status == "refunded";
    }
}

public sealed record ChargeRequest(Guid PaymentKey, long AmountCents);

public sealed record Charge(string ChargeId, Guid PaymentKey, long AmountCents, string Status);

public sealed class PaymentDeclinedException(string reason) : Exception($"The payment was declined: {reason}");
