using System.Diagnostics;
using TicketSale.AppHost.LocalServers;

namespace TicketSale.AppHost.Tests;

/// <summary>Runs a program to its end and returns its exit code with what it wrote.</summary>
internal static class Processes
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> arguments, string workingDirectory, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromMinutes(2));
        return (process.ExitCode, await output + await error);
    }

    /// <summary>Runs the built AppHost with <paramref name="arguments"/> (a publish) in <paramref name="folder"/>; fails the test unless it succeeds.</summary>
    public static async Task PublishAsync(string folder, params string[] arguments)
    {
        var (exitCode, output) = await RunAsync("dotnet", [typeof(StateFolder).Assembly.Location, .. arguments], folder);
        Assert.True(exitCode == 0, output);
    }
}
