using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;

namespace TicketSale.Sales.Tests;

/// <summary>One alert as Alertmanager's webhook delivered it.</summary>
public sealed record ReceivedAlert(string Status, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations)
{
    public string Name => Labels.GetValueOrDefault("alertname", "");
}

/// <summary>A stand-in for an on-call system: receives Alertmanager's webhook on a loopback port and keeps every alert.</summary>
public sealed class AlertReceiver() : LoopbackReceiver("/alerts/")
{
    private readonly ConcurrentQueue<ReceivedAlert> _alerts = new();

    public IReadOnlyCollection<ReceivedAlert> Alerts => _alerts;

    // Alertmanager's webhook body: { "status": ..., "alerts": [ { "status", "labels", "annotations", ... } ] }.
    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.InputStream);
        foreach (var alert in body?["alerts"]?.AsArray() ?? [])
        {
            _alerts.Enqueue(new ReceivedAlert((string)alert!["status"]!, Strings(alert["labels"]), Strings(alert["annotations"])));
        }

        context.Response.StatusCode = 200;
    }

    private static Dictionary<string, string> Strings(JsonNode? node) =>
        node?.AsObject().ToDictionary(p => p.Key, p => (string?)p.Value ?? "") ?? [];
}
