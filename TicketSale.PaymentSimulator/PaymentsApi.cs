using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace TicketSale.PaymentSimulator;

public static class PaymentsApi
{
    public static IEndpointRouteBuilder MapPaymentsApi(this IEndpointRouteBuilder app)
    {
        var payments = app.MapGroup("/payments").RequireCallerKey().AddEndpointFilter(Misbehave);
        payments.MapPost("/", Charge);
        payments.MapPost("/{paymentKey:guid}/refund", Refund);
        payments.MapGet("/{paymentKey:guid}", (Guid paymentKey, Ledger ledger) =>
            ledger.Find(paymentKey) is { } charge ? Results.Ok(ToResponse(charge)) : Results.NotFound());
        return app;
    }

    public static IEndpointRouteBuilder MapSimulatorApi(this IEndpointRouteBuilder app)
    {
        var simulator = app.MapGroup("/simulator").RequireCallerKey();
        simulator.MapGet("/", (Ledger ledger) => TypedResults.Ok(ledger.Settings));
        simulator.MapPut("/", (SimulatorSettings settings, Ledger ledger) =>
        {
            if (settings.FailureRate is < 0 or > 1 || settings.LatencyMs is < 0 or > 60_000 || settings.OverchargeCents < 0)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["settings"] = ["failureRate must be 0..1, latencyMs 0..60000, overchargeCents 0 or more."] });
            }

            ledger.Settings = settings;
            return Results.Ok(settings);
        });
        simulator.MapGet("/charges", (Ledger ledger) => TypedResults.Ok(ledger.Snapshot().Select(ToResponse)));
        return app;
    }

    private static Results<Ok<ChargeResponse>, Created<ChargeResponse>, Conflict<string>, ValidationProblem, ProblemHttpResult> Charge(
        ChargeBody body, Ledger ledger, TimeProvider time, HttpContext context)
    {
        if (body.AmountCents <= 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["amountCents"] = ["Must be positive."] });
        }

        var amount = body.AmountCents + ledger.Settings.OverchargeCents;
        var (charge, created) = ledger.Charge(body.PaymentKey, amount, time.GetUtcNow());
        if (charge is null)
        {
            return TypedResults.Problem("This payment key was voided: it can no longer be charged.", statusCode: StatusCodes.Status402PaymentRequired);
        }

        if (charge.AmountCents != amount)
        {
            return TypedResults.Conflict("This payment key was used for a different amount.");
        }

        // A failure *after* the charge went through: the caller sees an error but the money moved. Only the
        // idempotency key keeps its retry from charging again.
        if (created && context.Items.ContainsKey(FailAfterKey))
        {
            return TypedResults.Problem("Simulated failure after capturing.", statusCode: StatusCodes.Status502BadGateway);
        }

        return created
            ? TypedResults.Created($"/payments/{charge.PaymentKey:N}", ToResponse(charge))
            : TypedResults.Ok(ToResponse(charge));
    }

    /// <summary>Refunds a captured charge, or voids a key never charged; either way the key can take no money.</summary>
    private static Ok<ChargeResponse> Refund(Guid paymentKey, Ledger ledger, TimeProvider time) =>
        TypedResults.Ok(ToResponse(ledger.Refund(paymentKey, time.GetUtcNow())));

    private const string FailAfterKey = "fail-after-capture";

    /// <summary>Applies the simulator settings: latency, outage (503), and random failures before or after capturing.</summary>
    private static async ValueTask<object?> Misbehave(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var settings = context.HttpContext.RequestServices.GetRequiredService<Ledger>().Settings;
        if (settings.LatencyMs > 0)
        {
            await Task.Delay(settings.LatencyMs, context.HttpContext.RequestAborted);
        }

        if (settings.Outage)
        {
            return Results.Problem("The payment gateway is down.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

#pragma warning disable CA5394 // Simulated failures need no cryptographic randomness.
        if (settings.FailureRate > 0 && Random.Shared.NextDouble() < settings.FailureRate)
        {
            if (Random.Shared.Next(2) == 0)
            {
                return Results.Problem("Simulated gateway failure.", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            context.HttpContext.Items[FailAfterKey] = true;
        }
#pragma warning restore CA5394

        return await next(context);
    }

    /// <summary>TimesCharged is what the ledger proves: 1 for a charge (a key is charged once at most), 0 for a void.</summary>
    private static ChargeResponse ToResponse(ChargeRecord c) =>
        new(c.ChargeId, c.PaymentKey, c.AmountCents, c.Status, c.Status == ChargeRecord.Voided ? 0 : 1, c.RefundedAt);
}

public sealed record ChargeBody([property: Required] Guid PaymentKey, long AmountCents);

public sealed record ChargeResponse(string ChargeId, Guid PaymentKey, long AmountCents, string Status, int TimesCharged, DateTimeOffset? RefundedAt);
