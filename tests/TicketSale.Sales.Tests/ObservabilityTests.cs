using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TicketSale.Core.Messaging;

namespace TicketSale.Sales.Tests;

/// <summary>
/// The application exporting its traces over OTLP to a collector of the test's own, and its Alertmanager sending to a
/// webhook of the test's own (Prometheus scraping and evaluating every second).
/// </summary>
public sealed class ObservabilityFixture : SaleFixture
{
    public OtlpReceiver Collector { get; } = new();

    public AlertReceiver Alerts { get; } = new();

    protected override void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
        builder.Configuration["TicketSale:Alerts:WebhookUrl"] = Alerts.Endpoint.ToString();
        builder.Configuration["TicketSale:Alerts:ScrapeInterval"] = "00:00:01";
        builder.Configuration["TicketSale:Alerts:GroupWait"] = "00:00:01";
        foreach (var service in new[] { "web", "api", "worker" }.Select(builder.CreateResourceBuilder<ProjectResource>))
        {
            service.WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", Collector.Endpoint.ToString().TrimEnd('/'))
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                // Spans leave in batches, every 5 s by default.
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "250");
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Collector.DisposeAsync();
        await Alerts.DisposeAsync();
    }
}

public sealed class ObservabilityTests(ObservabilityFixture fixture) : IClassFixture<ObservabilityFixture>
{
    private const int ServerKind = 2;
    private const int ClientKind = 3;
    private const int ProducerKind = 4;
    private const int ConsumerKind = 5;

    [Fact]
    public async Task A_purchase_is_one_trace_from_the_gateway_through_the_queue_to_the_worker_and_the_order_batch_links_to_it()
    {
        var purchase = await fixture.BuyConfirmedAsync();

        // The services export on their own schedules: wait until the purchase's whole path has arrived.
        ReceivedSpan? processing = null;
        List<ReceivedSpan> path = [];
        ReceivedSpan? batch = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var spans = fixture.Collector.Spans.ToList();
            processing = spans.SingleOrDefault(s => s.Service == "worker" && s.Name == "process purchase"
                && s.Attributes.GetValueOrDefault("ticketsale.purchase.id") == purchase.ToString());
            path = processing is null ? [] : Ancestors(spans, processing);
            batch = processing is null ? null : spans.FirstOrDefault(s => s.Service == "worker" && s.Name == "write orders"
                && s.Links.Contains((processing.TraceId, processing.SpanId)));
            if ((path.Any(s => s.Service == "web" && s.Kind == ServerKind) && batch is not null) || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.NotNull(processing);
        Assert.Equal(ConsumerKind, processing.Kind);
        var trace = fixture.Collector.Spans.Where(s => s.TraceId == processing.TraceId).ToList();
        var describedPath = string.Join(" <- ", path.Select(s => $"{s.Service}:{s.Name}({s.Kind})"));

        // Up from the Worker: the Api's publish to RabbitMQ, the Api's request, the gateway that forwarded it.
        Assert.True(path.Count >= 3, $"The purchase's processing has too short a path: {describedPath}");
        Assert.Equal(("api", ProducerKind), (path[1].Service, path[1].Kind));
        Assert.StartsWith("RabbitMQ.Client", path[1].Scope, StringComparison.Ordinal);
        Assert.Contains(path, s => s.Service == "api" && s.Kind == ServerKind && s.Name.Contains("/api/purchases", StringComparison.Ordinal));
        Assert.Contains(path, s => s.Service == "web" && s.Kind == ServerKind);

        // Down from it: the payment gateway's call.
        Assert.Contains(trace, s => s.Service == "worker" && s.Kind == ClientKind && Ancestors(trace, s).Contains(processing)
            && s.Attributes.GetValueOrDefault("url.full", "").Contains("/payments", StringComparison.Ordinal));

        // The order was written in a batch that links to this purchase, with the database's spans under it.
        Assert.NotNull(batch);
        Assert.Contains(fixture.Collector.Spans, s => s.Scope == "Npgsql" && s.TraceId == batch.TraceId && s.ParentSpanId == batch.SpanId);
    }

    [Fact]
    public async Task A_dead_letter_fires_an_alert_that_prometheus_raises_and_alertmanager_delivers_to_the_webhook()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 4);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldSeatsAsync(campaign.Id, 0);
        var userId = (Guid)(await fixture.QueryAsync("SELECT \"Id\" FROM \"Users\" WHERE \"Email\" = $1", r => r.GetGuid(0), buyer.Email!))[0];
        // Prometheus scrapes every replica of every service, with the management key; nothing was dead-lettered yet.
        using var prometheus = fixture.App.CreateHttpClient("prometheus");
        await Eventually.HoldsAsync(async () =>
        {
            var up = (await prometheus.GetFromJsonAsync<JsonNode>("/api/v1/query?query=up"))!["data"]!["result"]!.AsArray();
            var services = up.Where(r => (string)r!["value"]![1]! == "1").Select(r => (string)r!["metric"]!["service"]!).Order().ToList();
            return services.SequenceEqual(["api", "api", "mail", "payments", "web", "worker"]);
        }, "Prometheus to scrape both Api replicas, the Worker, the gateway, the payment simulator and the mail sink");
        Assert.DoesNotContain(fixture.Alerts.Alerts, a => a.Name == "PurchasesDeadLettered");

        // Seats and general admission at once: no code path can process it, and it is dead-lettered.
        var poison = new PurchaseRequested(Guid.NewGuid(), userId, campaign.Id, hold!.Value, [0, 1], Guid.NewGuid(), 1, 8400,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
        await fixture.PublishAsync(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(poison));
        Assert.Equal("Failed", (await fixture.WaitForOutcomesAsync([poison.PurchaseId], TimeSpan.FromSeconds(30)))[poison.PurchaseId]);

        await Eventually.HoldsAsync(() => Task.FromResult(fixture.Alerts.Alerts.Any(a => a.Name == "PurchasesDeadLettered" && a.Status == "firing")),
            "Alertmanager to deliver the dead-letter alert", TimeSpan.FromSeconds(60));
        var alert = fixture.Alerts.Alerts.First(a => a.Name == "PurchasesDeadLettered");
        Assert.Equal("critical", alert.Labels["severity"]);
        Assert.StartsWith("Purchases dead-lettered in the last 5 minutes: ", alert.Annotations["summary"], StringComparison.Ordinal);
    }

    /// <summary>The span, then its parent, its parent's parent, … as far as they were received.</summary>
    private static List<ReceivedSpan> Ancestors(IReadOnlyCollection<ReceivedSpan> spans, ReceivedSpan span)
    {
        var byId = spans.Where(s => s.TraceId == span.TraceId).GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        var path = new List<ReceivedSpan> { span };
        while (path[^1].ParentSpanId is { Length: > 0 } parent && byId.TryGetValue(parent, out var next) && !path.Contains(next))
        {
            path.Add(next);
        }

        return path;
    }
}
