namespace TicketSale.AppHost.Supervision;

/// <summary>What Aspire's resource snapshots say about a running process.</summary>
internal static class Snapshots
{
    /// <summary>The process id the orchestrator reports (for a project, its <c>dotnet run</c>).</summary>
    public static int? ProcessId(CustomResourceSnapshot snapshot) =>
        snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
        {
            int pid => pid,
            long pid => (int)pid,
            string text when int.TryParse(text, out var pid) => pid,
            _ => null,
        };

    /// <summary>The address a project's replica itself listens on (not the proxy in front of replicas).</summary>
    public static string? ListenAddress(CustomResourceSnapshot snapshot) =>
        snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value?.Split(';')[0];
}
