using System.Reflection;

namespace TicketSale.AppHost.Hosting;

public sealed class DistributedApplicationOptions
{
    /// <summary>Where resources keep their data between runs, like container volumes.</summary>
    public string StateDirectory { get; set; } = Path.Combine(RepositoryRoot, ".state");

    /// <summary>Discard the state folder (data, generated secrets) before starting.</summary>
    public bool Fresh { get; set; }

    /// <summary>Delete the state folder when the application is disposed (the test host's temporary folders).</summary>
    public bool DiscardStateOnDispose { get; set; }

    /// <summary>Ignore preferred ports (tests run side by side).</summary>
    public bool RandomizePorts { get; set; }

    /// <summary>Echo every resource's log lines, prefixed with its name, to the console.</summary>
    public bool WriteLogsToConsole { get; set; } = true;

    public string EnvironmentName { get; set; } = "Development";

    /// <summary>The build configuration whose output the projects are run from: the AppHost's own.</summary>
    public string BuildConfiguration { get; set; } = Metadata("TicketSaleConfiguration") ?? "Debug";

    public ExecutableLocator Executables { get; set; } = ExecutableLocator.Default();

    public static string RepositoryRoot { get; } = Path.GetFullPath(Metadata("TicketSaleRepoRoot") ?? Directory.GetCurrentDirectory());

    internal void ApplyCommandLine(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--state-dir" when i + 1 < args.Count:
                    StateDirectory = Path.GetFullPath(args[++i]);
                    break;
                case "--fresh":
                    Fresh = true;
                    break;
                case "--quiet":
                    WriteLogsToConsole = false;
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: TicketSale.AppHost [--state-dir PATH] [--fresh] [--quiet]");
            }
        }
    }

    private static string? Metadata(string key) =>
        typeof(DistributedApplicationOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value;
}
