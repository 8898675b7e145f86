namespace TicketSale.AppHost.Hosting;

/// <summary>Finds the machine's own server binaries: on PATH, or where Debian's packages put them.</summary>
public sealed class ExecutableLocator(IReadOnlyList<string> searchPath)
{
    public IReadOnlyList<string> SearchPath { get; } = searchPath;

    public static ExecutableLocator Default()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).ToList();
        // PostgreSQL's server binaries live in a versioned folder off PATH; prefer the newest installed version.
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            path.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        // RabbitMQ's own start script; Debian's /usr/sbin wrapper insists on switching to the rabbitmq user.
        path.Insert(0, "/usr/lib/rabbitmq/bin");
        path.AddRange(["/usr/sbin", "/sbin"]);
        return new ExecutableLocator(path);
    }

    public string? TryFind(string executable) =>
        Path.IsPathRooted(executable)
            ? (File.Exists(executable) ? executable : null)
            : SearchPath.Select(dir => Path.Combine(dir, executable)).FirstOrDefault(File.Exists);

    public string Find(string executable) =>
        TryFind(executable) ?? throw new MissingPrerequisitesException([new(executable, "?")]);
}

/// <summary>Start-up stopped before anything ran because binaries are missing; the message names the packages.</summary>
public sealed class MissingPrerequisitesException(IReadOnlyList<Resources.Prerequisite> missing)
    : Exception(BuildMessage(missing))
{
    public IReadOnlyList<Resources.Prerequisite> Missing { get; } = missing;

    private static string BuildMessage(IReadOnlyList<Resources.Prerequisite> missing)
    {
        var packages = string.Join(' ', missing.Select(m => m.Package).Distinct());
        var executables = string.Join(", ", missing.Select(m => $"'{m.Executable}' (package {m.Package})"));
        return $"Cannot start: {executables} not found. Install with: sudo apt-get install -y {packages}";
    }
}

/// <summary>A resource did not become healthy; the message carries the tail of its log.</summary>
public sealed class ResourceStartupException(string resource, string reason, IReadOnlyList<string> logTail)
    : Exception($"Resource '{resource}' {reason}. Last lines of its log:{Environment.NewLine}{string.Join(Environment.NewLine, logTail.Select(l => "  | " + l))}")
{
    public string Resource { get; } = resource;

    public IReadOnlyList<string> LogTail { get; } = logTail;
}
