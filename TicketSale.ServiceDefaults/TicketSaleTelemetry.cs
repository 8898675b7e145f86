namespace Microsoft.Extensions.Hosting;

/// <summary>Names of the meters and activity sources that the services emit and ServiceDefaults exports.</summary>
public static class TicketSaleTelemetry
{
    public static readonly string[] MeterNames = ["TicketSale.*"];
    public static readonly string[] ActivitySourceNames = ["TicketSale.*", "RabbitMQ.Client.*", "Npgsql"];
}
