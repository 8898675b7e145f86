namespace TicketSale.Bench.Load;

/// <summary>
/// The load client's gen0 budget: 64 MB a heap instead of what the runtime picks on a VM that reports no cache sizes
/// (it collected about twice a second at 256 connections, each pause about 9 ms, and a pause of the client adds to
/// the latency of every request it has in flight: docs/benchmarks.md, twenty-sixth session).
/// </summary>
/// <remarks>
/// Only an environment variable sets the budget's floor (.NET does not read it from runtimeconfig.json), so
/// <c>bench.sh</c> starts the bench with it, and with the cap Directory.Build.props sets lifted. The bench removes
/// both from its own environment before it starts anything, so neither the system's processes nor the baseline
/// server inherit the client's setting.
/// </remarks>
public static class LoadClientGc
{
    public static void KeepFromChildren()
    {
        Environment.SetEnvironmentVariable("DOTNET_GCgen0size", null);
        Environment.SetEnvironmentVariable("DOTNET_GCGen0MaxBudget", null);
    }

    /// <summary>What the report shows of it: the budget this process's GC runs with.</summary>
    public static object? Gen0MaxBudgetBytes() => GC.GetConfigurationVariables().GetValueOrDefault("GCGen0MaxBudget");
}
