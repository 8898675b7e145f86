namespace TicketSale.AppHost.Hosting.Processes;

/// <summary>How to launch one process of a resource.</summary>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments)
{
    public string? WorkingDirectory { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Runs the process as this unprivileged user when the orchestrator is root (PostgreSQL refuses root).</summary>
    public string? RunAsUser { get; init; }

    /// <summary>The signal that asks the process to shut down cleanly (PostgreSQL: SIGINT, a fast shutdown).</summary>
    public string StopSignal { get; init; } = "TERM";

    /// <summary>How long a clean shutdown may take before the process is killed.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The scheduling niceness (-20 to 19): how much CPU the process yields to the others, or takes first, when they compete.</summary>
    public int Nice { get; init; }
}
