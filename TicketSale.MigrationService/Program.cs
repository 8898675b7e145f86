using TicketSale.MigrationService;

// Prepares the tickets database and exits: each service's login role and its privileges, then the schema, migrated as
// the role that owns it. This is the one process with the server's admin login; the services wait for it to complete
// and connect as their own roles.
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddSingleton<DatabaseSetup>();

using var host = builder.Build();
await host.StartAsync();
try
{
    await host.Services.GetRequiredService<DatabaseSetup>().RunAsync(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
}
finally
{
    await host.StopAsync();
}
