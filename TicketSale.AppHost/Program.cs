using Microsoft.Extensions.DependencyInjection;
using TicketSale.AppHost.ContainerServers;
using TicketSale.AppHost.LocalServers;
using TicketSale.AppHost.Monitoring;
using TicketSale.AppHost.Publishing;
using TicketSale.AppHost.Releases;
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
var localCache = local is null ? null : builder.AddLocalRedis("cache", local, nice: -10);
var containerCache = local is null ? builder.AddRedis("cache").WithMemoryCeiling().WithVolume("cache-data", "/data")
    .WithComputeResources("250m", "1536Mi", "1", "1536Mi") : null;
IResourceBuilder<IResourceWithConnectionString> cache = localCache is null ? containerCache! : localCache;

IResourceBuilder<IResourceWithConnectionString> tickets;
EndpointReference postgresEndpoint;
// A streaming hot standby for the reads that may be a little stale (the Api's StaleReads); locally only: a deployment
// brings its own standby (an operator's, or a managed database's read endpoint) and sets ConnectionStrings:tickets-replica.
EndpointReference? replicaEndpoint = null;
if (local is null)
{
    // The image creates the database on its first start; the migration service does the rest.
    var postgres = builder.AddPostgres("postgres").WithDataVolume().WithEnvironment("POSTGRES_DB", "tickets")
        .WithComputeResources("500m", "1Gi", "2", "4Gi");
    (tickets, postgresEndpoint) = (postgres.AddDatabase("tickets"), postgres.Resource.PrimaryEndpoint);
}
else
{
    var postgres = builder.AddLocalPostgres("postgres", local);
    (tickets, postgresEndpoint) = (postgres.AddDatabase("tickets"), postgres.Resource.PrimaryEndpoint);
    replicaEndpoint = postgres.AddLocalPostgresReplica("postgres-replica", local).Resource.PrimaryEndpoint;
}

IResourceBuilder<IResourceWithConnectionString> messaging;
if (local is null)
{
    // Deployed as a cluster of three (quorum queues need a majority), whose nodes prove themselves with a shared cookie.
    var cookie = Secret("messaging-erlang-cookie");
    messaging = builder.AddRabbitMQ("messaging").WithManagementPlugin().WithDataVolume()
        .WithEnvironment("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", ReferenceExpression.Create($"-setcookie {cookie.Resource}"))
        .WithEnvironment("RABBITMQ_CTL_ERL_ARGS", ReferenceExpression.Create($"-setcookie {cookie.Resource}"))
        .WithClusterNodes(3)
        .WithComputeResources("500m", "1Gi", "2", "2Gi");
}
else
{
    messaging = builder.AddLocalRabbitMQ("messaging", local);
}

// Generated on first start and kept in the state folder (.state/secrets.json), unless configuration (user secrets)
// gives them; never in the repository.
// The Api's ECDSA P-256 key for access tokens (base64 PKCS#8); the gateway gets only the public half, from the Api.
var tokenSigningKey = Secret("token-signing-key", NewP256Key);
// The Api's ECDSA P-256 key for ticket codes; door scanners verify them offline with its public half.
var ticketSigningKey = Secret("ticket-signing-key", NewP256Key);
var adminPassword = Secret("admin-password");
var admissionKey = Secret("waiting-room-key");
// The payment gateway's callers prove themselves with it (a real gateway's API key).
var paymentsKey = Secret("payments-key");

// Like a real gateway, the simulator's ledger survives its restarts: it is what proves nobody was charged twice or
// charged without a ticket.
var payments = builder.AddProject<Projects.TicketSale_PaymentSimulator>("payments")
    .WithHttpEndpoint()
    .AsDevelopmentOnly()
    .WithComputeResources("100m", "128Mi", "500m", "256Mi")
    .WithEnvironment("Payments__ApiKey", paymentsKey);
if (state is not null)
{
    payments.WithEnvironment("Ledger__Directory", state.For("payments"));
}

// Development's mail server (TicketSale.MailSink): whatever the services send over SMTP is kept in the state folder's
// mail/ and listed on its inbox page; nothing leaves the machine. A deployment gives Mail:Smtp its own server.
// SMTP locally on a free port, told to the sink; in its container on the sink's default, 2525.
var mail = builder.AddProject<Projects.TicketSale_MailSink>("mail");
mail = builder.ExecutionContext.IsRunMode
    ? mail.WithEndpoint(name: "smtp", scheme: "smtp", env: "Sink__SmtpPort")
    : mail.WithEndpoint(name: "smtp", scheme: "smtp", targetPort: 2525);
mail.WithHttpEndpoint()
    .AsDevelopmentOnly()
    .WithComputeResources("50m", "64Mi", "250m", "128Mi")
    .WithHttpHealthCheck("/health");
if (state is not null)
{
    mail.WithEnvironment("Sink__Directory", state.For("mail"));
}

// Each service connects to PostgreSQL as a role of its own that may read and write rows, nothing more; the schema
// belongs to an owner role that only the migration service uses, and the server's admin login stays with the
// migration service, which creates the roles, migrates and exits before the services start.
var ticketsOwner = DatabaseLogin("ticketsale_owner", Secret("tickets-owner-password"));
var ticketsApiPassword = Secret("tickets-api-password");
var ticketsApi = DatabaseLogin("ticketsale_api", ticketsApiPassword);
var ticketsWorker = DatabaseLogin("ticketsale_worker", Secret("tickets-worker-password"));
var migrations = builder.AddProject<Projects.TicketSale_MigrationService>("migrations")
    .WithReference(tickets).WaitFor(tickets)
    .WithEnvironment("ConnectionStrings__tickets-owner", ticketsOwner)
    .WithEnvironment("ConnectionStrings__tickets-api", ticketsApi)
    .WithEnvironment("ConnectionStrings__tickets-worker", ticketsWorker)
    .WithComputeResources("100m", "128Mi", "1", "512Mi");

// Released blue-green: locally the green colour is declared beside the blue one and started by the gateway's switch
// command (Releases/BlueGreenRelease); deployed, the publisher writes both colours from the blue one.
var apiCache = CacheLogin("api", ["ts:*"]);
var workerCache = CacheLogin("worker", ["ts:{*", "ts:wr:*", "ts:campaigns:*", "ts:purchase:*", "ts:catalog:*"]);
var api = AddApi("api")
    .WithComputeResources("500m", "512Mi", "2", "1Gi")
    .WithAutoscaling(maxReplicas: 10)
    .WithBlueGreenDeployment();
var worker = AddWorker("worker")
    .WithComputeResources("250m", "256Mi", "1", "512Mi")
    .WithBlueGreenDeployment();
var greenApi = builder.ExecutionContext.IsRunMode ? AddApi("api-green").WithExplicitStart() : null;
var green = greenApi is null ? null : new BlueGreenRelease.Colour("green", greenApi.Resource, AddWorker("worker-green").WithExplicitStart().Resource);

IResourceBuilder<ProjectResource> AddApi(string name) => builder.AddProject<Projects.TicketSale_Api>(name)
    .WithHttpEndpoint()
    .WithEnvironment(apiCache).WaitFor(cache)
    .WithEnvironment("ConnectionStrings__tickets", ticketsApi).WaitForCompletion(migrations)
    .WithEnvironment(context =>
    {
        // Not waited for: without the standby the Api reads everything from the primary.
        if (replicaEndpoint is not null)
        {
            context.EnvironmentVariables["ConnectionStrings__tickets-replica"] = DatabaseLogin("ticketsale_api", ticketsApiPassword, replicaEndpoint);
            context.EnvironmentVariables["Database__Replica__MaxLag"] = builder.Configuration["TicketSale:ReplicaMaxLag"] ?? "00:00:05";
        }
    })
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(payments)
    .WithEnvironment("Payments__ApiKey", paymentsKey)
    .WithEnvironment("Auth__SigningKey", tokenSigningKey)
    .WithEnvironment("Tickets__SigningKey", ticketSigningKey)
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
IResourceBuilder<ProjectResource> AddWorker(string name) => builder.AddProject<Projects.TicketSale_Worker>(name)
    .WithHttpEndpoint()
    // Inventory and waiting rooms (a campaign's hash slot), the active sets, purchase outcomes; not sessions or sign-ins.
    .WithEnvironment(workerCache).WaitFor(cache)
    .WithEnvironment("ConnectionStrings__tickets", ticketsWorker).WaitForCompletion(migrations)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(payments).WaitFor(payments)
    .WithEnvironment("Payments__ApiKey", paymentsKey)
    // It signs the codes of the tickets it mails.
    .WithEnvironment("Tickets__SigningKey", ticketSigningKey)
    .WithEnvironment("Process__Nice", "10")
    .WithHttpHealthCheck("/health");

// The gateway's session keys are encrypted in Redis with this certificate (base64 PKCS#12, self-signed).
var dataProtectionCertificate = Secret("dataprotection-certificate", () =>
{
    using var rsa = System.Security.Cryptography.RSA.Create(3072);
    var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=TicketSale data protection", rsa,
        System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
    using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(10));
    return Convert.ToBase64String(certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12));
});

// The gateway answers the waiting room itself (checking access tokens with the key set the Api publishes, issuing
// admission tokens with the key it shares with the Api).
// It balances the Api's replicas itself, with active health checks, each listed by its own address.
var web = builder.AddProject<Projects.TicketSale_Web>("web")
    .WithHttpEndpoint(port: int.TryParse(builder.Configuration["TicketSale:WebPort"], out var webPort) ? webPort : 5080, name: "http")
    .WithExternalHttpEndpoints()
    // The waiting room (in a campaign's hash slot), rate limits, its campaign cache, its data-protection keys; not the
    // Api's sessions, sign-in records or purchase outcomes.
    .WithEnvironment(CacheLogin("web", ["ts:{*", "ts:wr:*", "ts:campaigns:*", "ts:rl:*", "ts:web:*", "ts:dataprotection:*"])).WaitFor(cache)
    .WithReference(api).WaitFor(api)
    .WithEnvironment("WaitingRoom__SigningKey", admissionKey)
    .WithEnvironment("DataProtection__Certificate", dataProtectionCertificate)
    .WithHttpHealthCheck("/health")
    .WithComputeResources("500m", "256Mi", "2", "512Mi")
    .WithAutoscaling(maxReplicas: 6);
// Deployed, the gateway runs two instances for availability (its state is in Redis); locally one, on a fixed port.
if (builder.ExecutionContext.IsPublishMode)
{
    web.WithReplicas(2);
}
IResourceBuilder<ProjectResource>[] apis = greenApi is null ? [api] : [api, greenApi];
foreach (var release in apis)
{
    ReplicaEndpoints.WithReplicaEndpoints(web, release);
}

// Mail links to the public site: the Api's e-mail confirmations, the Worker's order mail.
var publicBaseUrl = builder.ExecutionContext.IsRunMode ? null : builder.AddParameter("public-base-url");
IResource[] mailers = green is null ? [api.Resource, worker.Resource] : [api.Resource, worker.Resource, green.Api, green.Worker];
foreach (var mailer in mailers.Cast<ProjectResource>().Select(builder.CreateResourceBuilder))
{
    mailer.WithEnvironment("Mail__Smtp", mail.GetEndpoint("smtp")).WaitFor(mail);
    if (publicBaseUrl is null)
    {
        mailer.WithEnvironment("Mail__PublicBaseUrl", web.GetEndpoint("http"));
    }
    else
    {
        mailer.WithEnvironment("Mail__PublicBaseUrl", publicBaseUrl);
    }
}

payments.WithHttpHealthCheck("/health");

// Every service's metrics, detailed readiness report and /internal routes need it (ServiceDefaults' OperatorAccess):
// the public gateway serves those paths too.
var managementKey = Secret("management-key");
foreach (var project in builder.Resources.OfType<ProjectResource>())
{
    builder.CreateResourceBuilder(project).WithEnvironment("Management__Key", managementKey);
}

// Prometheus scrapes every service and evaluates Monitoring/alerts.yml; Alertmanager sends what fires to
// TicketSale:Alerts:WebhookUrl (user configuration), or keeps it on its own page. Deployed, the platform's monitoring
// scrapes the same /metrics with the same rules.
if (local is not null)
{
    var alertmanager = builder.AddLocalAlertmanager("alertmanager", local);
    builder.AddLocalPrometheus("prometheus", local, alertmanager, managementKey);
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

if (green is not null)
{
    BlueGreenRelease.AddBlueGreenRelease(web, new(new("blue", api.Resource, worker.Resource), green, web.Resource, managementKey.Resource));
}

local?.Binaries.ThrowIfAnyMissing();
builder.AddDeploymentPublishing();
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

// A service's Redis connection, as an ACL user of its own limited to its keys and to the commands a service needs, on
// the local server and in the container alike; the default user is the operators'.
Action<EnvironmentCallbackContext> CacheLogin(string service, string[] keyPatterns)
{
    var (user, password) = ($"ticketsale-{service}", Secret($"cache-{service}-password"));
    var connection = localCache is null
        ? containerCache!.WithServiceUser(user, password, keyPatterns, ["ts:*"])
        : localCache.WithAclUser(user, password, keyPatterns, ["ts:*"]);
    return context => context.EnvironmentVariables["ConnectionStrings__cache"] = connection;
}

// A login to the tickets database as a role of its own, on the primary or on <server> (the standby): the server's
// address, never the admin's credentials. The local servers listen on 127.0.0.1 only (their endpoints' host is
// "localhost", which may resolve to ::1 first).
ReferenceExpression DatabaseLogin(string role, IResourceBuilder<ParameterResource> password, EndpointReference? server = null)
{
    server ??= postgresEndpoint;
    return local is null
        ? ReferenceExpression.Create($"Host={server.Property(EndpointProperty.Host)};Port={server.Property(EndpointProperty.Port)};Username={role};Password={password.Resource};Database=tickets")
        : ReferenceExpression.Create($"Host=127.0.0.1;Port={server.Property(EndpointProperty.Port)};Username={role};Password={password.Resource};Database=tickets");
}

static string NewP256Key()
{
    using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
    return Convert.ToBase64String(key.ExportPkcs8PrivateKey());
}

IResourceBuilder<ParameterResource> Secret(string name, Func<string>? generate = null)
{
    if (state is not null)
    {
        builder.Configuration[$"Parameters:{name}"] ??= state.Secret(name, generate);
    }

    return builder.AddParameter(name, secret: true);
}
