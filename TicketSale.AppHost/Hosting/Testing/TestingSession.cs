namespace TicketSale.AppHost.Hosting.Testing;

/// <summary>
/// Carries a test's wishes into the AppHost's own <c>Program</c>: the model is declared once, in Program.cs, and a
/// test runs it in a temporary state folder instead of starting it for real.
/// </summary>
internal sealed class TestingSession(Action<DistributedApplicationBuilder>? configure)
{
    private static readonly AsyncLocal<TestingSession?> s_current = new();

    public static TestingSession? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    public Action<DistributedApplicationBuilder>? Configure { get; } = configure;

    public DistributedApplication? Application { get; set; }

    public static void ApplyDefaults(DistributedApplicationOptions options)
    {
        options.StateDirectory = Path.Combine(Path.GetTempPath(), "ticketsale-test-" + Guid.NewGuid().ToString("N")[..12]);
        options.Fresh = true;
        // TICKETSALE_KEEP_TEST_STATE=1 keeps the folder, logs included, to look at after a failed test.
        options.DiscardStateOnDispose = Environment.GetEnvironmentVariable("TICKETSALE_KEEP_TEST_STATE") != "1";
        options.RandomizePorts = true;
        options.WriteLogsToConsole = false;
    }
}
