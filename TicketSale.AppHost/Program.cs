using TicketSale.AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

// Redis runs one command at a time for every replica: descheduled mid-script on a busy machine, it held up every
// request for 5-80 ms at a time in the bench's flash sale (`./bench.sh --scenarios flash`). It runs first, as it would
// on cores of its own; it needs about a quarter of a core, so the others lose little.
var cache = builder.AddRedis("cache")
    .WithCpuNice(-10);

var tickets = builder.AddPostgres("postgres")
    .AddDatabase("tickets");

var messaging = builder.AddRabbitMQ("messaging")
    .WithManagementPlugin();

// Generated on first start and kept in the state folder (.state/secrets.json); never in the repository.
var jwtSigningKey = builder.AddParameter("jwt-signing-key", secret: true);
var adminPassword = builder.AddParameter("admin-password", secret: true);
var admissionKey = builder.AddParameter("waiting-room-key", secret: true);

// Like a real gateway, the simulator's ledger survives its restarts: it is what proves nobody was charged twice or
// charged without a ticket.
var payments = builder.AddProject<Projects.TicketSale_PaymentSimulator>("payments")
    .WithDataDirectory("Ledger__Directory");

var api = builder.AddProject<Projects.TicketSale_Api>("api")
    .WithReference(cache).WaitFor(cache)
    .WithReference(tickets).WaitFor(tickets)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(payments)
    .WithEnvironment("Auth__SigningKey", jwtSigningKey)
    .WithEnvironment("Auth__AdminEmail", "admin@ticketsale.local")
    .WithEnvironment("Auth__AdminPassword", adminPassword)
    .WithEnvironment("WaitingRoom__SigningKey", admissionKey)
    // A 32 MB gen0 budget. A hold allocates about 16 KB, and on this VM (it reports no cache sizes) the GC collected
    // every 14 MB: at 256 connections 9 collections a second, nearly all gen1, each stopping every request in flight
    // for about 5.5 ms (5% of the time). Only an environment variable sets the budget's floor (.NET does not read it
    // from runtimeconfig.json), and the cap from Directory.Build.props is lifted with it. 64 MB cut the pauses further
    // but added 46 MB resident, too close to the Api's 400 MB (`./bench.sh --scenarios hot`, GC figures in its report).
    .WithEnvironment("DOTNET_GCgen0size", "0x2000000")
    .WithEnvironment("DOTNET_GCGen0MaxBudget", "0x2000000")
    .WithReplicas(2);

// The Worker decides purchases that are already safe in the queue: when the machine is busy, the requests people are
// waiting on go first and the Worker takes the CPU left over (on two cores, its consuming while purchases arrive
// halved the rate at which they were accepted: `./bench.sh --scenarios confirm`).
builder.AddProject<Projects.TicketSale_Worker>("worker")
    .WithReference(cache).WaitFor(cache)
    .WithReference(tickets).WaitFor(tickets)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(payments).WaitFor(payments)
    .WithCpuNice(10);

// The gateway answers the waiting room itself (checking access tokens, issuing admission tokens): it shares both keys.
builder.AddProject<Projects.TicketSale_Web>("web")
    .WithHttpEndpoint(port: 5080)
    .WithReference(cache).WaitFor(cache)
    .WithReference(api).WaitFor(api)
    .WithEnvironment("Auth__SigningKey", jwtSigningKey)
    .WithEnvironment("WaitingRoom__SigningKey", admissionKey);

builder.Build().Run();

/// <summary>The AppHost's entry point, named so the test host can run it.</summary>
public partial class Program;
