using System.ComponentModel.DataAnnotations;

namespace TicketSale.Core.RateLimiting;

/// <summary>Limits per endpoint class, from configuration ("RateLimits:Classes:holds:PerUser:Capacity" …).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    public Dictionary<string, ClassLimits> Classes { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        [RateLimitClasses.Auth] = new() { PerIp = new() { Capacity = 20, PerSecond = 0.5 } },
        [RateLimitClasses.Holds] = new() { PerUser = new() { Capacity = 10, PerSecond = 2 }, PerIp = new() { Capacity = 300, PerSecond = 100 } },
        [RateLimitClasses.Purchases] = new() { PerUser = new() { Capacity = 5, PerSecond = 1 }, PerIp = new() { Capacity = 200, PerSecond = 50 } },
        // A purchase naming a campaign no cache knows costs a database lookup: checked per user and address first,
        // so that random campaign ids cannot be used to load PostgreSQL.
        [RateLimitClasses.Lookups] = new() { PerUser = new() { Capacity = 10, PerSecond = 1 }, PerIp = new() { Capacity = 100, PerSecond = 20 } },
        [RateLimitClasses.Reads] = new() { PerIp = new() { Capacity = 600, PerSecond = 200 } },
        // Joins and polls of one campaign's waiting room, per client address: a budget apart from other reads, so
        // that the visitors waiting behind one address do not use up the seat maps of those buying behind it.
        [RateLimitClasses.WaitingRoom] = new() { PerIp = new() { Capacity = 600, PerSecond = 200 } },
    };

    /// <summary>The in-process first line: requests per second per client address on each replica, before Redis is asked.</summary>
    [Range(1, 1_000_000)]
    public int LocalPerIpPerSecond { get; set; } = 2000;

    /// <summary>
    /// Requests of buyers (accounts, campaigns, holds, purchases, orders; not their event streams) one replica works
    /// on at once. At 256 connections the hold endpoint has about as many in flight.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxRequestsInFlight { get; set; } = 512;

    /// <summary>
    /// Requests that wait for one of those places, oldest first; those beyond are answered 503 at once. The places
    /// free at thousands a second, so the queue is a wait of a fraction of a second; with it, the bench's 1,024
    /// connections on one replica are all served, and its 2,048 (where the answers took over a second) are not.
    /// </summary>
    [Range(0, 100_000)]
    public int InFlightQueue { get; set; } = 1024;

    /// <summary>Event streams one client address holds open at once on each replica (a campus behind one NAT).</summary>
    [Range(1, 100_000)]
    public int EventStreamsPerAddress { get; set; } = 200;

    /// <summary>Event streams one user holds open at once on each replica: a few tabs, a seat map and a purchase each.</summary>
    [Range(1, 1_000)]
    public int EventStreamsPerUser { get; set; } = 10;

    /// <summary>An event stream with nothing to send for this long ends; its reader reconnects if still there.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan EventStreamIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);
}

public sealed class ClassLimits
{
    public BucketLimits? PerUser { get; set; }

    public BucketLimits? PerIp { get; set; }
}

public sealed class BucketLimits
{
    [Range(1, 1_000_000)]
    public int Capacity { get; set; }

    [Range(0.001, 1_000_000)]
    public double PerSecond { get; set; }
}

public static class RateLimitClasses
{
    public const string Auth = "auth";
    public const string Holds = "holds";
    public const string Purchases = "purchases";
    public const string Reads = "reads";
    public const string Lookups = "lookups";
    public const string WaitingRoom = "waitingroom";
}
