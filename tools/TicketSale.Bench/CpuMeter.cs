using System.Globalization;

namespace TicketSale.Bench;

/// <summary>
/// Where the machine's CPU went during a load run, per part of the system, from <c>/proc</c>: each resource's
/// process with everything it started (PostgreSQL's backends, RabbitMQ's Erlang VM), the bench's baseline server,
/// and the load client (this process, and the wrk it runs). All of them share the same cores, so a run's figure
/// cannot be read without knowing who else was busy.
/// </summary>
public sealed class CpuMeter(Func<IReadOnlyDictionary<string, int>> resources)
{
    public const string LoadClient = "load client";

    private static readonly double s_ticksPerSecond = 100; // USER_HZ, 100 on every Linux this runs on

    private readonly Dictionary<string, int> _others = [];

    /// <summary>Another process of the bench's own to account for apart from the load client (the baseline server).</summary>
    public void Track(string name, int processId) => _others[name] = processId;

    /// <summary>CPU seconds used so far by each part (cumulative; take two and subtract).</summary>
    public IReadOnlyDictionary<string, double> Snapshot()
    {
        var processes = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && Read(pid) is { } process)
            {
                processes[pid] = process;
            }
        }

        var children = processes.ToLookup(p => p.Value.Parent, p => p.Key);
        var roots = new Dictionary<string, int>(resources());
        foreach (var (name, pid) in _others)
        {
            roots[name] = pid;
        }

        var seconds = new Dictionary<string, double>();
        var counted = new HashSet<int>();
        foreach (var (name, pid) in roots)
        {
            seconds[name] = Subtree(pid) / s_ticksPerSecond;
        }

        // Whatever else runs under the bench (wrk, and the wrappers around the resources) is the client's; the
        // resources, counted above, are not counted again.
        seconds[LoadClient] = Subtree(Environment.ProcessId) / s_ticksPerSecond;
        return seconds;

        long Subtree(int pid)
        {
            if (!counted.Add(pid) || !processes.TryGetValue(pid, out var process))
            {
                return 0;
            }

            return process.Ticks + children[pid].Sum(Subtree);
        }
    }

    /// <summary>Each part's share of one core between two snapshots (200 is the whole of a two-core machine).</summary>
    public static IReadOnlyDictionary<string, double> PercentOfOneCore(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after, TimeSpan elapsed) =>
        after.ToDictionary(a => a.Key, a => Math.Round(Math.Max(0, a.Value - before.GetValueOrDefault(a.Key)) / elapsed.TotalSeconds * 100));

    /// <summary>The parent and the CPU ticks of a process, its reaped children's included; null once it is gone.</summary>
    private static (int Parent, long Ticks)? Read(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // The command name, in parentheses, may hold spaces: the fields after it start with the state (field 3).
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return ((int)Field(4), Field(14) + Field(15) + Field(16) + Field(17));
    }
}
