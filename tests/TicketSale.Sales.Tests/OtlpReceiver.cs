using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;

namespace TicketSale.Sales.Tests;

/// <summary>One span as a collector received it.</summary>
public sealed record ReceivedSpan(
    string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links);

/// <summary>
/// A stand-in for an OpenTelemetry collector: receives OTLP over HTTP (protobuf) on a loopback port, as the services
/// export it when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and keeps the spans. Metrics and logs are acknowledged
/// and dropped.
/// </summary>
public sealed class OtlpReceiver : LoopbackReceiver
{
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        using (var body = new MemoryStream())
        {
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                foreach (var span in ParseTraces(body.ToArray()))
                {
                    _spans.Enqueue(span);
                }
            }
        }

        // An empty Export*ServiceResponse: everything accepted.
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-protobuf";
    }

    /// <summary>
    /// Reads the fields of ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1) that the tests look at,
    /// skipping the others.
    /// </summary>
    public static IEnumerable<ReceivedSpan> ParseTraces(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var resourceSpans in Fields(request, 1))
        {
            var service = "";
            foreach (var resource in Fields(resourceSpans, 1))
            {
                foreach (var attribute in Fields(resource, 1))
                {
                    var (key, value) = KeyValue(attribute);
                    if (key == "service.name")
                    {
                        service = value;
                    }
                }
            }

            foreach (var scopeSpans in Fields(resourceSpans, 2))
            {
                var scope = Fields(scopeSpans, 1).Select(s => Text(s, 1)).FirstOrDefault() ?? "";
                foreach (var span in Fields(scopeSpans, 2))
                {
                    spans.Add(new ReceivedSpan(service, scope, Hex(span, 1), Hex(span, 2), Hex(span, 4), Text(span, 5), (int)Varint(span, 6),
                        Fields(span, 9).Select(KeyValue).GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.Last().Value),
                        [.. Fields(span, 13).Select(link => (Hex(link, 1), Hex(link, 2)))]));
                }
            }
        }

        return spans;
    }

    /// <summary>Every length-delimited field <paramref name="number"/> of a message, in order.</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return found;
    }

    private static ulong Varint(byte[] message, int number)
    {
        var input = new CodedInputStream(message);
        uint tag;
        ulong value = 0;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint)
            {
                value = input.ReadUInt64();
            }
            else
            {
                input.SkipLastField();
            }
        }

        return value;
    }

    private static string Text(byte[] message, int number) =>
        Fields(message, number).Select(System.Text.Encoding.UTF8.GetString).LastOrDefault() ?? "";

    private static string Hex(byte[] message, int number) =>
        Fields(message, number).Select(b => Convert.ToHexStringLower(b)).LastOrDefault() ?? "";

    /// <summary>A KeyValue's key, and its AnyValue as text (string, bool or integer values).</summary>
    private static (string Key, string Value) KeyValue(byte[] keyValue)
    {
        var value = Fields(keyValue, 2).LastOrDefault() ?? [];
        var text = Fields(value, 1).Count > 0 ? Text(value, 1) : Varint(value, 3).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return (Text(keyValue, 1), text);
    }
}
