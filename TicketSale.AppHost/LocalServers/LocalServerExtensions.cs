using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TicketSale.AppHost.LocalServers;

/// <summary>
/// Redis, PostgreSQL and RabbitMQ as local processes from the machine's Debian packages, for machines without a
/// container engine: the same connection strings as Aspire's container resources, their data in the state folder.
/// </summary>
public static class LocalServerExtensions
{
    /// <summary>
    /// Redis with a memory ceiling (<c>TicketSale:RedisMaxMemory</c>, 1gb by default) and <c>noeviction</c>: holds, stock
    /// and pins must never be evicted to make room, so at the ceiling writes fail instead, and the Api's readiness
    /// report warns well before (its <c>cache-memory</c> check).
    /// </summary>
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(this IDistributedApplicationBuilder builder, string name, LocalServerContext local, int nice = 0)
    {
        var maxMemory = RedisMaxMemory(builder);
        var password = local.SecretParameter(builder, $"{name}-password");
        var folder = local.State.For(name);
        var server = local.Binaries.Find("redis-server", "redis-server");
        var port = FreePort.Next();
        var redis = new LocalRedisResource(name, nice == 0 ? server : "nice", folder, password.Resource);
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(redis, async (_, ct) =>
        {
            // Only password hashes are written; the file is the server's alone.
            var acl = new StringBuilder().AppendLine(CultureInfo.InvariantCulture,
                $"user default on #{await PasswordHashAsync(password.Resource, ct).ConfigureAwait(false)} ~* &* +@all");
            foreach (var user in redis.AclUsers)
            {
                acl.AppendLine(CultureInfo.InvariantCulture,
                    $"user {user.Name} on #{await PasswordHashAsync(user.Password, ct).ConfigureAwait(false)} {string.Join(' ', user.Rules)}");
            }

            StateFolder.WriteOwnerOnly(Path.Combine(folder, AclFile), acl.ToString());
        });
        return builder.AddResource(redis)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                if (nice != 0)
                {
                    // Without the privilege for a higher priority, nice says so and runs the server at the default one.
                    context.Args.Add("-n");
                    context.Args.Add(nice.ToString(CultureInfo.InvariantCulture));
                    context.Args.Add(server);
                }

                foreach (var arg in new object[]
                {
                    "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--protected-mode", "yes",
                    "--aclfile", Path.Combine(folder, AclFile), "--dir", folder, "--daemonize", "no", "--logfile", "",
                    // Holds and stock live here between snapshots of the truth in PostgreSQL: keep them across restarts.
                    "--appendonly", "yes", "--appendfsync", "everysec",
                    // A rewrite forks and dumps the whole dataset; at the default 64 MB threshold a sale's stream of holds
                    // set one off every few seconds, each taking a core from the sale. A rewrite waits for a gigabyte.
                    "--auto-aof-rewrite-min-size", "1gb", "--save", "",
                    "--maxmemory", maxMemory, "--maxmemory-policy", "noeviction",
                })
                {
                    context.Args.Add(arg);
                }
            })
            .WithHealthCheck(AddCheck(builder, name, redis, static (cs, ct) => HealthProbes.RedisAsync(cs, ct)))
            .WithIconName("Memory");
    }

    internal static string RedisMaxMemory(IDistributedApplicationBuilder builder) => builder.Configuration["TicketSale:RedisMaxMemory"] ?? "1gb";

    /// <summary>Adds a service's own user (<see cref="RedisServiceUser"/>) and returns its connection string.</summary>
    public static ReferenceExpression WithAclUser(this IResourceBuilder<LocalRedisResource> redis, string user, IResourceBuilder<ParameterResource> password,
        IReadOnlyList<string> keyPatterns, IReadOnlyList<string> channelPatterns)
    {
        redis.Resource.AclUsers.Add(new RedisServiceUser(user, password.Resource, keyPatterns, channelPatterns));
        // The server's address and the user's credentials, never the default user's. The client's tie-breaker key and
        // configuration channel (for switching primaries) are not the service's to touch: off.
        return ReferenceExpression.Create(
            $"127.0.0.1:{redis.Resource.PrimaryEndpoint.Property(EndpointProperty.Port)},user={user},password={password.Resource},tiebreaker=,configChannel=");
    }

    private const string AclFile = "users.acl";

    private static async Task<string> PasswordHashAsync(ParameterResource password, CancellationToken cancellationToken) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(await password.GetValueAsync(cancellationToken).ConfigureAwait(false) ?? "")));

    public static IResourceBuilder<LocalPostgresResource> AddLocalPostgres(this IDistributedApplicationBuilder builder, string name, LocalServerContext local)
    {
        var password = local.SecretParameter(builder, $"{name}-password");
        var cluster = new PostgresCluster(local.State, name, local.Binaries);
        var port = FreePort.Next();
        var postgres = new LocalPostgresResource(name, cluster.Command, local.State.For(name), password.Resource);
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(postgres, async (_, ct) =>
            await cluster.InitialiseAsync(await password.Resource.GetValueAsync(ct).ConfigureAwait(false) ?? "", ct).ConfigureAwait(false));
        // Aspire carries a server's state to its databases only for containers: the databases follow the process here.
        builder.Eventing.Subscribe<ResourceReadyEvent>(postgres, async (@event, ct) =>
        {
            await PostgresCluster.CreateDatabasesAsync(await postgres.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false) ?? "",
                postgres.Databases.Select(d => d.DatabaseName), ct).ConfigureAwait(false);
            await SetDatabasesStateAsync(@event.Services, postgres, KnownResourceStates.Running).ConfigureAwait(false);
        });
        builder.Eventing.Subscribe<ResourceStoppedEvent>(postgres, (@event, _) =>
            SetDatabasesStateAsync(@event.Services, postgres, KnownResourceStates.Exited));
        return builder.AddResource(postgres)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                foreach (var arg in cluster.Arguments(port))
                {
                    context.Args.Add(arg);
                }
            })
            .WithHealthCheck(AddCheck(builder, name, postgres, static (cs, ct) => HealthProbes.PostgresAsync(cs + ";Database=postgres", ct)))
            .WithIconName("DatabaseMultiple");
    }

    /// <summary>
    /// A streaming hot standby of <paramref name="primary"/>, cloned from it on first start (and whenever it is no longer
    /// a copy of that primary), its own resource on its own port. It holds the same roles and passwords (they are
    /// rows in the primary's catalog), so a service reads it with the login it writes the primary with.
    /// </summary>
    public static IResourceBuilder<LocalPostgresResource> AddLocalPostgresReplica(this IResourceBuilder<LocalPostgresResource> primary, string name, LocalServerContext local)
    {
        var builder = primary.ApplicationBuilder;
        var cluster = new PostgresCluster(local.State, name, local.Binaries);
        var port = FreePort.Next();
        // The standby replays the sale's writes after the fact: on a busy machine the primary, Redis and the services
        // go first, and falling behind is what the Api's lag bound is for.
        var replica = new LocalPostgresResource(name, "nice", local.State.For(name), primary.Resource.PasswordParameter);
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(replica, async (@event, ct) =>
        {
            // The copy is taken before the standby starts, so before WaitFor lets it start: wait here for the primary.
            await @event.Services.GetRequiredService<ResourceNotificationService>().WaitForResourceHealthyAsync(primary.Resource.Name, ct).ConfigureAwait(false);
            await cluster.CloneFromAsync(await primary.Resource.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false) ?? "", ct).ConfigureAwait(false);
        });
        return builder.AddResource(replica)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add("-n");
                context.Args.Add("10");
                context.Args.Add(cluster.Command);
                foreach (var arg in cluster.Arguments(port, standby: true))
                {
                    context.Args.Add(arg);
                }
            })
            .WaitFor(primary)
            .WithHealthCheck(AddCheck(builder, name, replica, static (cs, ct) => HealthProbes.PostgresAsync(cs + ";Database=postgres", ct)))
            .WithIconName("DatabaseMultiple");
    }

    private static async Task SetDatabasesStateAsync(IServiceProvider services, LocalPostgresResource server, string state)
    {
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        foreach (var database in server.Databases)
        {
            await notifications.PublishUpdateAsync(database, s => s with
            {
                State = state,
                StartTimeStamp = state == KnownResourceStates.Running ? DateTime.UtcNow : s.StartTimeStamp,
                StopTimeStamp = state == KnownResourceStates.Running ? null : DateTime.UtcNow,
            }).ConfigureAwait(false);
        }
    }

    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(this IResourceBuilder<LocalPostgresResource> server, string name, string? databaseName = null)
    {
        var database = new LocalPostgresDatabaseResource(name, databaseName ?? name, server.Resource);
        server.Resource.Databases.Add(database);
        return server.ApplicationBuilder.AddResource(database)
            .WithHealthCheck(AddCheck(server.ApplicationBuilder, name, database, static (cs, ct) => HealthProbes.PostgresAsync(cs, ct)));
    }

    public static IResourceBuilder<LocalRabbitMQResource> AddLocalRabbitMQ(this IDistributedApplicationBuilder builder, string name, LocalServerContext local)
    {
        var password = local.SecretParameter(builder, $"{name}-password");
        var folder = local.State.For(name);
        var (port, managementPort, epmdPort, distributionPort) = (FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());
        var rabbit = new LocalRabbitMQResource(name, local.Binaries.Find("rabbitmq-server", "rabbitmq-server"), folder, password.Resource);

        // The broker's start script would otherwise spawn a shared epmd daemon that outlives it; one of its own per
        // broker keeps every process accounted for.
        var epmd = builder.AddExecutable($"{name}-epmd", local.Binaries.Find("epmd", "rabbitmq-server"), folder,
                "-port", epmdPort.ToString(CultureInfo.InvariantCulture), "-address", "127.0.0.1")
            .WithEndpoint(port: epmdPort, targetPort: epmdPort, scheme: "tcp", name: "tcp", isProxied: false)
            .WithParentRelationship(rabbit);
        epmd.WithHealthCheck(AddCheck(builder, epmd.Resource.Name, ct => HealthProbes.TcpAsync(epmdPort, ct)));

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(rabbit, async (_, ct) =>
        {
            Directory.CreateDirectory(Path.Combine(folder, "home"));
            var config = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"listeners.tcp.default = 127.0.0.1:{port}")
                .AppendLine(CultureInfo.InvariantCulture, $"default_user = {LocalRabbitMQResource.UserName}")
                .AppendLine(CultureInfo.InvariantCulture, $"default_pass = {await password.Resource.GetValueAsync(ct).ConfigureAwait(false)}")
                .AppendLine("default_permissions.configure = .*")
                .AppendLine("default_permissions.read = .*")
                .AppendLine("default_permissions.write = .*")
                .AppendLine("loopback_users = none")
                .AppendLine(CultureInfo.InvariantCulture, $"management.tcp.port = {managementPort}")
                .AppendLine("management.tcp.ip = 127.0.0.1")
                .AppendLine("log.console = true")
                .AppendLine("log.console.level = warning")
                .AppendLine("log.file = false")
                .ToString();
            var configPath = Path.Combine(folder, "rabbitmq.conf");
            StateFolder.WriteOwnerOnly(configPath, config);
            await File.WriteAllTextAsync(Path.Combine(folder, "enabled_plugins"), "[rabbitmq_management].", ct).ConfigureAwait(false);
        });

        // A stable node name per state folder: the node's database folder is named after it.
        var node = "ticketsale-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(folder)))[..8].ToLowerInvariant();
        return builder.AddResource(rabbit)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHttpEndpoint(port: managementPort, targetPort: managementPort, name: "management", isProxied: false)
            .WithEnvironment("HOME", Path.Combine(folder, "home"))
            .WithEnvironment("ERL_EPMD_PORT", epmdPort.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("RABBITMQ_NODENAME", $"{node}@localhost")
            .WithEnvironment("RABBITMQ_NODE_PORT", port.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("RABBITMQ_DIST_PORT", distributionPort.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("RABBITMQ_CONFIG_FILE", Path.Combine(folder, "rabbitmq.conf"))
            .WithEnvironment("RABBITMQ_ENABLED_PLUGINS_FILE", Path.Combine(folder, "enabled_plugins"))
            .WithEnvironment("RABBITMQ_MNESIA_BASE", Path.Combine(folder, "mnesia"))
            .WithEnvironment("RABBITMQ_LOG_BASE", Path.Combine(folder, "log"))
            .WithEnvironment("RABBITMQ_PLUGINS_EXPAND_DIR", Path.Combine(folder, "plugins-expand"))
            .WaitFor(epmd)
            .WithHealthCheck(AddCheck(builder, name, ct => HealthProbes.RabbitMQAsync(port, managementPort, LocalRabbitMQResource.UserName, password.Resource, ct)))
            .WithIconName("Mail");
    }

    /// <summary>A health check that asks the server itself, with the connection string Aspire resolved for it.</summary>
    private static string AddCheck(IDistributedApplicationBuilder builder, string name, IResourceWithConnectionString resource,
        Func<string, CancellationToken, Task<bool>> probe) =>
        AddCheck(builder, name, async ct =>
            await probe(await resource.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false) ?? "", ct).ConfigureAwait(false));

    private static string AddCheck(IDistributedApplicationBuilder builder, string name, Func<CancellationToken, Task<bool>> probe)
    {
        var key = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(key, _ => new DelegateHealthCheck(probe), failureStatus: null, tags: null));
        return key;
    }

    private sealed class DelegateHealthCheck(Func<CancellationToken, Task<bool>> probe) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                return await probe(cancellationToken).ConfigureAwait(false) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy(ex.Message);
            }
        }
    }
}

/// <summary>What the local servers share: the state folder, the machine's binaries, the generated secrets.</summary>
public sealed class LocalServerContext(StateFolder state, MachineBinaries binaries)
{
    public StateFolder State { get; } = state;

    public MachineBinaries Binaries { get; } = binaries;

    /// <summary>
    /// A secret parameter whose value comes from configuration (user secrets, environment) or, failing that, is
    /// generated and kept in the state folder.
    /// </summary>
    public IResourceBuilder<ParameterResource> SecretParameter(IDistributedApplicationBuilder builder, string name)
    {
        builder.Configuration[$"Parameters:{name}"] ??= State.Secret(name);
        return builder.AddParameter(name, secret: true);
    }
}
