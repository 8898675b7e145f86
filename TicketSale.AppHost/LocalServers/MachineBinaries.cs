namespace TicketSale.AppHost.LocalServers;

/// <summary>
/// Finds the machine's own server binaries (on PATH, or where Debian's packages put them) and, when some are missing,
/// fails before anything starts with the command that installs them.
/// </summary>
public sealed class MachineBinaries(IReadOnlyList<string> searchPath)
{
    private readonly List<(string Executable, string Package)> _missing = [];

    /// <summary>PATH and Debian's folders, or only <paramref name="searchPath"/> (colon-separated) when given.</summary>
    public static MachineBinaries Default(string? searchPath = null)
    {
        if (!string.IsNullOrEmpty(searchPath))
        {
            return new MachineBinaries(searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries));
        }

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
        return new MachineBinaries(path);
    }

    /// <summary>The full path of an executable, or its bare name (noted as missing) when it is not installed.</summary>
    public string Find(string executable, string package)
    {
        if (searchPath.Select(dir => Path.Combine(dir, executable)).FirstOrDefault(File.Exists) is { } found)
        {
            return found;
        }

        _missing.Add((executable, package));
        return executable;
    }

    /// <summary>Throws, naming the packages to install, if any executable asked for is missing.</summary>
    public void ThrowIfAnyMissing()
    {
        if (_missing.Count > 0)
        {
            var packages = string.Join(' ', _missing.Select(m => m.Package).Distinct());
            var executables = string.Join(", ", _missing.Select(m => $"'{m.Executable}' (package {m.Package})"));
            throw new MissingPrerequisitesException($"Cannot start: {executables} not found. Install with: sudo apt-get install -y {packages}");
        }
    }
}

public sealed class MissingPrerequisitesException(string message) : Exception(message);
