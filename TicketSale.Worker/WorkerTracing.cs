using System.Diagnostics;
using System.Text;
using RabbitMQ.Client;

namespace TicketSale.Worker;

/// <summary>
/// The Worker's spans (exported by ServiceDefaults as "TicketSale.*"). RabbitMQ.Client starts each delivery's span in
/// a trace of its own with a link to the publishing request; the processing of a purchase is made a child of that
/// publish instead, so that one trace runs from the buyer's request through the queue to the Worker's payment call
/// and everything it does for that purchase. The order writer commits many purchases in one transaction: its span
/// links to each purchase it writes, and the database's spans are its children.
/// </summary>
public static class WorkerTracing
{
    public const string SourceName = "TicketSale.Worker";

    private static readonly ActivitySource s_source = new(SourceName);

    /// <summary>Tag naming the purchase a span works on.</summary>
    public const string PurchaseIdTag = "ticketsale.purchase.id";

    /// <summary>A purchase request's processing, in the trace of the request that published it.</summary>
    public static Activity? StartProcessing(IReadOnlyBasicProperties properties, Guid purchaseId)
    {
        var activity = s_source.StartActivity("process purchase", ActivityKind.Consumer, PublisherContext(properties));
        activity?.SetTag("messaging.system", "rabbitmq")
            .SetTag("messaging.operation.type", "process")
            .SetTag(PurchaseIdTag, purchaseId.ToString());
        return activity;
    }

    /// <summary>
    /// A purchase's write in a group-committed PostgreSQL transaction, as its own trace sees it: from its turn in the
    /// queue to the commit, linked to the batch's span (which holds PostgreSQL's own spans).
    /// </summary>
    public static Activity? StartBatchedWrite(string name) =>
        s_source.StartActivity(name, ActivityKind.Client)?
            .SetTag("db.system", "postgresql")
            .SetTag("db.system.name", "postgresql")
            .SetTag("db.operation.name", "group commit");

    /// <summary>One transaction of the order writer, linked to the processing of every purchase it writes.</summary>
    public static Activity? StartOrderBatch(IReadOnlyCollection<ActivityContext> purchases)
    {
        // The writers' loop runs outside any purchase's context, so the batch is a root of its own: it belongs to none
        // of its purchases' traces more than to the others.
        var activity = s_source.StartActivity("write orders", ActivityKind.Internal, parentContext: default,
            links: purchases.Where(p => p != default).Select(p => new ActivityLink(p)));
        activity?.SetTag("ticketsale.orders.batch_size", purchases.Count);
        return activity;
    }

    /// <summary>The trace context the publisher put in the message's headers (W3C <c>traceparent</c>), if any.</summary>
    public static ActivityContext PublisherContext(IReadOnlyBasicProperties properties)
    {
        if (properties.Headers is not { Count: > 0 } headers)
        {
            return default;
        }

        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, static (carrier, name, out value, out values) =>
        {
            values = null;
            // AMQP carries header strings as bytes.
            value = ((IDictionary<string, object?>)carrier!).TryGetValue(name, out var raw) ? raw switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                string text => text,
                _ => null,
            } : null;
        }, out var traceParent, out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, out var context) ? context : default;
    }
}
