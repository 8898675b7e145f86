namespace TicketSale.AppHost.Tests;

/// <summary>The whole application, declared by the AppHost's Program.cs, started once for a test class.</summary>
public class AppFixture : IAsyncLifetime
{
    public DistributedApplication App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = DistributedApplicationTestingBuilder.Create<Program>(Configure);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await App.StartAsync(timeout.Token);
    }

    public async Task DisposeAsync() => await App.DisposeAsync();

    /// <summary>Changes to the AppHost's model for one test class, made before anything starts.</summary>
    protected virtual void Configure(DistributedApplicationBuilder builder)
    {
    }
}
