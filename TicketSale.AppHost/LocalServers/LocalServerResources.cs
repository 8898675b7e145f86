namespace TicketSale.AppHost.LocalServers;

/// <summary>
/// A Redis server from the machine's <c>redis-server</c>, with an append-only file. Its connection string is the
/// <c>default</c> user's, for operators and tests; services connect as ACL users of their own (<see cref="AclUsers"/>).
/// </summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public ParameterResource PasswordParameter { get; } = password;

    internal List<RedisServiceUser> AclUsers { get; } = [];

    public EndpointReference PrimaryEndpoint => new(this, "tcp");

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"127.0.0.1:{PrimaryEndpoint.Property(EndpointProperty.Port)},password={PasswordParameter}");
}

/// <summary>
/// A PostgreSQL cluster from the machine's server binaries, initialised on first start with SCRAM authentication and
/// a generated password; run as the unprivileged <c>postgres</c> user when the AppHost runs as root.
/// </summary>
public sealed class LocalPostgresResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string UserName = "postgres";

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, "tcp");

    internal List<LocalPostgresDatabaseResource> Databases { get; } = [];

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Host=127.0.0.1;Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={UserName};Password={PasswordParameter}");
}

/// <summary>A database of a local PostgreSQL cluster, created when the cluster is first ready.</summary>
public sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresResource>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public LocalPostgresResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

/// <summary>
/// A RabbitMQ node from the machine's <c>rabbitmq-server</c>, with a generated user (guest is refused), the management
/// UI and an Erlang port mapper of its own.
/// </summary>
public sealed class LocalRabbitMQResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string UserName = "ticketsale";

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, "tcp");

    public EndpointReference ManagementEndpoint => new(this, "management");

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"amqp://{UserName}:{PasswordParameter}@127.0.0.1:{PrimaryEndpoint.Property(EndpointProperty.Port)}/");
}
