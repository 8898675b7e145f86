using System.Globalization;

namespace TicketSale.Testing;

/// <summary>Reads the process table from /proc, to check by process id that nothing was left behind.</summary>
public static class ProcessTree
{
    public static HashSet<int> DescendantsOf(IEnumerable<int> roots)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && ReadStat(pid) is { } stat)
            {
                parents[pid] = stat.ParentPid;
            }
        }

        var found = new HashSet<int>(roots);
        bool added;
        do
        {
            added = false;
            foreach (var (pid, parent) in parents)
            {
                if (found.Contains(parent) && found.Add(pid))
                {
                    added = true;
                }
            }
        }
        while (added);
        return found;
    }

    /// <summary>The processes whose command line holds <paramref name="text"/> (a state folder: the servers that use it).</summary>
    public static IEnumerable<int> WithCommandLineContaining(string text) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Command(pid).Contains(text, StringComparison.Ordinal))
            .ToList();

    /// <summary>Sends a signal by name (SIGINT, SIGTERM, ...) with kill(1).</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-s", signal.Replace("SIG", "", StringComparison.Ordinal), pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>SIGKILL, as a crash: no handler runs. A process already gone is fine.</summary>
    public static void Kill(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>Running means present and not a zombie waiting to be reaped.</summary>
    public static bool IsRunning(int pid) => ReadStat(pid) is { State: not 'Z' and not 'X' };

    public static async Task<IReadOnlyList<int>> WaitUntilAllGoneAsync(IEnumerable<int> pids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        List<int> alive;
        do
        {
            alive = pids.Where(IsRunning).ToList();
            if (alive.Count == 0)
            {
                break;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        return alive;
    }

    public static string Describe(IEnumerable<int> pids) =>
        string.Join(", ", pids.Select(p => $"{p} ({Command(p)})"));

    private static string Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static (int ParentPid, char State)? ReadStat(int pid)
    {
        try
        {
            // The command name may contain spaces and parentheses; the fields after the last ')' are fixed.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (int.Parse(fields[1], CultureInfo.InvariantCulture), fields[0][0]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
