using System.Globalization;

namespace TicketSale.Bench.Load;

/// <summary>
/// A service's own view of a route's latency (the Api replicas', or the gateway's): <c>http.server.request.duration</c>
/// from their Prometheus endpoints, the difference between two scrapes. The client's figure includes its own queueing and scheduling on the
/// shared cores; this one starts when Kestrel has read the request, so the two together say where the time went.
/// </summary>
public sealed class ServerLatency
{
    private const string Bucket = "http_server_request_duration_seconds_bucket{";

    private readonly SortedDictionary<double, double> _cumulative;

    private ServerLatency(SortedDictionary<double, double> cumulative) => _cumulative = cumulative;

    public double Count => _cumulative.Count == 0 ? 0 : _cumulative.Values.Max();

    public static async Task<ServerLatency> ScrapeAsync(HttpClient http, IEnumerable<Uri> replicas, string method, string route) =>
        FromScrapes(await ScrapesAsync(http, replicas), method, route);

    /// <summary>Each server's Prometheus scrape (<c>/metrics</c>), one after the other.</summary>
    public static async Task<List<string>> ScrapesAsync(HttpClient http, IEnumerable<Uri> servers)
    {
        var scrapes = new List<string>();
        foreach (var server in servers)
        {
            scrapes.Add(await http.GetStringAsync(new Uri(server, "/metrics")));
        }

        return scrapes;
    }

    /// <summary>One route's histogram, summed over the replicas' scrapes and the answers' status codes.</summary>
    public static ServerLatency FromScrapes(IEnumerable<string> scrapes, string method, string route)
    {
        var cumulative = new SortedDictionary<double, double>();
        foreach (var (upperBound, count) in scrapes.SelectMany(s => Buckets(s, method, route)))
        {
            cumulative[upperBound] = cumulative.GetValueOrDefault(upperBound) + count;
        }

        return new ServerLatency(cumulative);
    }

    /// <summary>The cumulative bucket counts of one route and method, summed over status codes.</summary>
    private static IEnumerable<(double UpperBound, double Count)> Buckets(string scrape, string method, string route) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith(Bucket, StringComparison.Ordinal)
                && l.Contains($"http_request_method=\"{method}\"", StringComparison.Ordinal)
                && l.Contains($"http_route=\"{route}\"", StringComparison.Ordinal))
            .Select(l =>
            {
                var le = l[(l.IndexOf("le=\"", StringComparison.Ordinal) + 4)..];
                le = le[..le.IndexOf('"', StringComparison.Ordinal)];
                return (le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture),
                    double.Parse(l.Split(' ')[^1], CultureInfo.InvariantCulture));
            })
            .GroupBy(b => b.Item1, b => b.Item2)
            .Select(g => (g.Key, g.Sum()));

    public ServerLatency Since(ServerLatency earlier) =>
        new(new SortedDictionary<double, double>(_cumulative.ToDictionary(b => b.Key, b => b.Value - earlier._cumulative.GetValueOrDefault(b.Key))));

    /// <summary>The upper bound (ms) of the bucket holding the percentile: "p99 ≤ this"; null without requests.</summary>
    public double? AtMostMs(double percentile)
    {
        var total = Count;
        if (total <= 0)
        {
            return null;
        }

        var rank = total * percentile / 100;
        return _cumulative.First(b => b.Value >= rank).Key * 1000;
    }
}
