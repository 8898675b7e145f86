namespace TicketSale.AppHost.Hosting;

/// <summary>
/// The log of one resource replica: kept in a file in the state folder, the most recent lines in memory (for error
/// messages and tests), and echoed to the console with the replica's name as prefix.
/// </summary>
internal sealed class ResourceLog : IDisposable
{
    private const int KeptLines = 2000;
    private static readonly ConsoleColor[] s_palette =
        [ConsoleColor.Cyan, ConsoleColor.Green, ConsoleColor.Magenta, ConsoleColor.Yellow, ConsoleColor.Blue, ConsoleColor.DarkCyan, ConsoleColor.DarkGreen, ConsoleColor.DarkYellow];

    private static readonly Lock s_consoleLock = new();
    private static int s_nextColor;

    private readonly Queue<string> _recent = new();
    private readonly StreamWriter _file;
    private readonly bool _echo;
    private readonly string _prefix;
    private readonly ConsoleColor _color;

    public ResourceLog(string name, string folder, bool echoToConsole)
    {
        Directory.CreateDirectory(folder);
        _file = new StreamWriter(new FileStream(Path.Combine(folder, name + ".log"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        _echo = echoToConsole;
        _prefix = $"[{name}]";
        _color = s_palette[Interlocked.Increment(ref s_nextColor) % s_palette.Length];
    }

    public void Write(string line)
    {
        lock (_recent)
        {
            _recent.Enqueue(line);
            if (_recent.Count > KeptLines)
            {
                _recent.Dequeue();
            }

            _file.WriteLine(line);
        }

        if (_echo)
        {
            lock (s_consoleLock)
            {
                Console.ForegroundColor = _color;
                Console.Write(_prefix);
                Console.ResetColor();
                Console.WriteLine(" " + line);
            }
        }
    }

    public IReadOnlyList<string> Tail(int count)
    {
        lock (_recent)
        {
            return _recent.Skip(Math.Max(0, _recent.Count - count)).ToList();
        }
    }

    public void Dispose()
    {
        lock (_recent)
        {
            _file.Dispose();
        }
    }
}
