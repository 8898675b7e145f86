using System.Runtime.InteropServices;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Lowers the process's CPU priority (its niceness) when configuration asks for it (<c>Process:Nice</c>): a
/// background service gives way to the requests people wait on. Linux keeps a niceness per thread, and a new thread
/// takes its creator's, so every thread running now is set; the ones started later follow.
/// </summary>
internal static partial class ProcessPriority
{
    private const int PrioProcess = 0;

    public static void Apply(int nice)
    {
        if (nice == 0 || !OperatingSystem.IsLinux())
        {
            return;
        }

        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), out var threadId))
            {
                _ = SetPriority(PrioProcess, threadId, nice);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);
}
