using System.ComponentModel.DataAnnotations;

namespace TicketSale.Api.Sales;

public sealed class SalesOptions
{
    public const string Section = "Sales";

    /// <summary>How long a hold keeps its seats before they return to sale, for campaigns that do not say.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:20:00")]
    public TimeSpan HoldDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an accepted purchase may take; past it, it fails and its seats return to sale.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan PurchaseDeadline { get; set; } = TimeSpan.FromMinutes(15);

    [Range(1, 100)]
    public int MaxSeatsPerHold { get; set; } = 20;
}
