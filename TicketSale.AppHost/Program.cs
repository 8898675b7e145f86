using Microsoft.Extensions.DependencyInjection;
using TicketSale.AppHost.LocalServers;
using TicketSale.AppHost.ServiceDiscovery;
using TicketSale.AppHost.Supervision;

var (statePath, fresh) = StateFolder.TakeArguments(ref args);
var builder = DistributedApplication.CreateBuilder(args);
// Only a run keeps state here; publishing writes the model and nothing else.
var state = builder.ExecutionContext.IsRunMode ? StateFolder.Open(statePath ?? Path.Combine(builder.AppHostDirectory, "..", ".state"), fresh) : null;

// Without a container engine (this project's machines) the backing services run as local processes from the
// machine's packages; publishing, or TicketSale:BackingServices=containers where Docker is at hand, uses Aspire's
// official container resources instead. Either way the services see the same connection strings.
var local = state is not null && builder.Configuration["TicketSale:BackingServices"] != "containers"
    ? new LocalServerContext(state, MachineBinaries.Default(builder.Configuration["TicketSale:BinariesPath"]))
    : null;

// Redis runs one command at a time for every replica: descheduled mid-script on a busy machine, it held up every
// request for 5-80 ms at a time in the bench's flash sale (`./bench.sh --scenarios flash`). It runs first, as it would
// on cores of its own; it needs about a quarter of a core, so the others lose little.
IResourceBuilder<IResourceWithConnectionString> cache = local is null
    ? builder.AddRedis("cache")
    : builder.AddLocalRedis("cache", local, nice: -10);

IResourceBuilder<IResourceWithConnectionString> tickets = local is null
    ? builder.AddPostgres("postgres").AddDatabase("tickets")
    : builder.AddLocalPostgres("postgres", local).AddDatabase("tickets");

IResourceBuilder<IResourceWithConnectionString> messaging = local is null
    ? builder.AddRabbitMQ("messaging").WithManagementPlugin()
    : builder.AddLocalRabbitMQ("messaging", local);

// Generated on first start and kept in the state folder (.state/secrets.json), unless configuration (user secrets)
// gives them; never in the repository.
var jwtSigningKey = Secret("jwt-signing-key");
var adminPassword = Secret("admin-password");
var admissionKey = Secret("waiting-room-key");
// The payment gateway's callers prove themselves with it (a real gateway's API key).
var paymentsKey = Secret("payments-key");

// Like a real gateway, the simulator's ledger survives its restarts: it is what proves nobody was charged twice or
// charged without a ticket.
var payments = builder.AddProject<Projects.TicketSale_PaymentSimulator>("payments")
    .WithHttpEndpoint()
    .WithEnvironment("Payments__ApiKey", paymentsKey);
if (state is not null)
{
    payments.WithEnvironment("Ledger__Directory", state.For("payments"));
}

var api = builder.AddProject<Projects.TicketSale_Api>("api")
    .WithHttpEndpoint()
    .WithReference(cache).WaitFor(cache)
    .WithReference(tickets).WaitFor(tickets)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(payments)
    .WithEnvironment("Payments__ApiKey", paymentsKey)
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
    .WithHttpHealthCheck("/health")
    .WithReplicas(2);

// The Worker decides purchases that are already safe in the queue: when the machine is busy, the requests people are
// waiting on go first and the Worker takes the CPU left over (on two cores, its consuming while purchases arrive
// halved the rate at which they were accepted: `./bench.sh --scenarios confirm`).
builder.AddProject<Projects.TicketSale_Worker>("worker")
    .WithHttpEndpoint()
    .WithReference(cache).WaitFor(cache)
    .WithReference(tickets).WaitFor(tickets)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(payments).WaitFor(payments)
    .WithEnvironment("Payments__ApiKey", paymentsKey)
    .WithEnvironment("Process__Nice", "10")
    .WithHttpHealthCheck("/health");

// The gateway answers the waiting room itself (checking access tokens, issuing admission tokens): it shares both keys.
// It balances the Api's replicas itself, with active health checks, each listed by its own address.
var web = builder.AddProject<Projects.TicketSale_Web>("web")
    .WithHttpEndpoint(port: int.TryParse(builder.Configuration["TicketSale:WebPort"], out var webPort) ? webPort : 5080, name: "http")
    .WithExternalHttpEndpoints()
    .WithReference(cache).WaitFor(cache)
    .WithReference(api).WaitFor(api)
    .WithEnvironment("Auth__SigningKey", jwtSigningKey)
    .WithEnvironment("WaitingRoom__SigningKey", admissionKey)
    .WithHttpHealthCheck("/health");
ReplicaEndpoints.WithReplicaEndpoints(web, api);

payments.WithHttpHealthCheck("/health");

// Every service's metrics, detailed readiness report and /internal routes need it (ServiceDefaults' OperatorAccess):
// the public gateway serves those paths too.
var managementKey = Secret("management-key");
foreach (var project in builder.Resources.OfType<ProjectResource>())
{
    builder.CreateResourceBuilder(project).WithEnvironment("Management__Key", managementKey);
}

// The services run in the AppHost's environment (Development from its launch profile; the bench runs Production).
if (builder.ExecutionContext.IsRunMode)
{
    foreach (var project in builder.Resources.OfType<ProjectResource>())
    {
        builder.CreateResourceBuilder(project)
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
            .WithEnvironment("DOTNET_ENVIRONMENT", builder.Environment.EnvironmentName);
    }
}

local?.Binaries.ThrowIfAnyMissing();
builder.Services.AddSingleton<RestartOnFailure>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<RestartOnFailure>());
builder.Services.AddHostedService<ResourceTable>();
ReplicaEndpoints.AddReplicaEndpoints(builder);
if (state is not null)
{
    ResourceLogFiles.AddResourceLogFiles(builder, Path.Combine(state.Path, "logs"));
}
RestartOnFailure.WatchStopCommands(builder);

builder.Build().Run();

IResourceBuilder<ParameterResource> Secret(string name)
{
    if (state is not null)
    {
        builder.Configuration[$"Parameters:{name}"] ??= state.Secret(name);
    }

    return builder.AddParameter(name, secret: true);
}
