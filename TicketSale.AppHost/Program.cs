using TicketSale.AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

var cache = builder.AddRedis("cache");

var tickets = builder.AddPostgres("postgres")
    .AddDatabase("tickets");

var messaging = builder.AddRabbitMQ("messaging")
    .WithManagementPlugin();

var api = builder.AddProject<Projects.TicketSale_Api>("api")
    .WithReference(cache).WaitFor(cache)
    .WithReference(tickets).WaitFor(tickets)
    .WithReference(messaging).WaitFor(messaging)
    .WithReplicas(2);

builder.AddProject<Projects.TicketSale_Worker>("worker")
    .WithReference(cache).WaitFor(cache)
    .WithReference(tickets).WaitFor(tickets)
    .WithReference(messaging).WaitFor(messaging);

builder.AddProject<Projects.TicketSale_Web>("web")
    .WithHttpEndpoint(port: 5080)
    .WithReference(api).WaitFor(api);

builder.Build().Run();

/// <summary>The AppHost's entry point, named so the test host can run it.</summary>
public partial class Program;
