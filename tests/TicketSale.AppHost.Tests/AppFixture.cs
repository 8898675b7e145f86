namespace TicketSale.AppHost.Tests;

/// <summary>The whole application, declared by the AppHost's Program.cs, started once for a test class.</summary>
public class AppFixture : IAsyncLifetime
{
    public TicketSaleApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        App = await TicketSaleApp.StartAsync(Configure, cancellationToken: timeout.Token);
    }

    public async Task DisposeAsync() => await App.DisposeAsync();

    /// <summary>Changes to the AppHost's model for one test class, made before anything starts.</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }
}
