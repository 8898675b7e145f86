
namespace TicketSale.Sales.Tests;

/// <summary>The application exporting its traces over OTLP to a collector of the test's own.</summary>
public sealed class TracingFixture : SaleFixture
{
    public OtlpReceiver Collector { get; } = new();

    protected override void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
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
    }
}

public sealed class TracingTests(TracingFixture fixture) : IClassFixture<TracingFixture>
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
