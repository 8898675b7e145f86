using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace TicketSale.Bench.Load;

/// <summary>
/// Runs the load client's socket continuations on the sockets' event threads, the way wrk runs its event loop,
/// instead of handing each one to a thread-pool worker that has to be woken for it.
/// </summary>
/// <remarks>
/// Why: with the services' thread-pool settings (no spinning, Directory.Build.props) a worker sleeps as soon as it runs
/// out of work. Holds answer in about 20 ms, so the client's workers slept and were woken again for nearly every
/// response: perf on the client at 256 connections put 28% of its samples in the kernel's task switch during the holds
/// (11% during the empty endpoint), and the client spent 39–51 µs of CPU per hold against 19–21 µs per empty request —
/// CPU taken from the Api and Redis on the same two cores. Inline: 25–28 µs per hold (<c>./bench.sh --scenarios hot</c>).
/// Only this process: .NET reads the switch (an environment variable) once, when its socket engine starts, so it is set,
/// the engine started, and the variable removed again before the system's processes and the baseline server (started
/// from this one) could inherit it. Nothing in the client blocks a continuation, which would stall the sockets behind it.
/// </remarks>
public static class InlineSocketCompletions
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task EnableForThisProcessAsync()
    {
        Environment.SetEnvironmentVariable(Variable, "1");
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var accept = listener.AcceptAsync();
            await client.ConnectAsync(listener.LocalEndPoint!);
            using var accepted = await accept;
            await client.SendAsync(new byte[] { 1 });
            await accepted.ReceiveAsync(new byte[1]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, null);
        }
    }

    /// <summary>
    /// What the report shows of it: whether this process's socket engine runs continuations inline, as the runtime
    /// itself has it (an internal field, read by reflection; absent from a runtime that moved it, then unknown).
    /// </summary>
    public static Reporting.LoadClientFigures Figure() => new(typeof(Socket).Assembly.GetType("System.Net.Sockets.SocketAsyncEngine")
        ?.GetField("InlineSocketCompletionsEnabled", BindingFlags.Static | BindingFlags.NonPublic)?.GetValue(null) as bool?);
}
