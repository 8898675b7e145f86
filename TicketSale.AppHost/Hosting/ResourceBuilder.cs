using TicketSale.AppHost.Hosting.Resources;

namespace TicketSale.AppHost.Hosting;

public interface IResourceBuilder<out T>
{
    T Resource { get; }

    DistributedApplicationBuilder ApplicationBuilder { get; }
}

internal sealed record ResourceBuilder<T>(T Resource, DistributedApplicationBuilder ApplicationBuilder) : IResourceBuilder<T>;

/// <summary>The Aspire resource-model verbs this orchestrator supports.</summary>
public static class ResourceBuilderExtensions
{
    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(this IResourceBuilder<PostgresServerResource> server, string name, string? databaseName = null)
    {
        databaseName ??= name;
        if (!System.Text.RegularExpressions.Regex.IsMatch(databaseName, "^[a-z_][a-z0-9_]{0,62}$"))
        {
            throw new ArgumentException($"'{databaseName}' is not a valid database name.", nameof(databaseName));
        }

        var database = new PostgresDatabaseResource(name, databaseName, server.Resource);
        server.Resource.Databases.Add(database);
        return server.ApplicationBuilder.AddResource(database);
    }

    public static IResourceBuilder<RabbitMQServerResource> WithManagementPlugin(this IResourceBuilder<RabbitMQServerResource> builder)
    {
        builder.Resource.ManagementEnabled = true;
        return builder;
    }

    /// <summary>Injects <c>ConnectionStrings__{name}</c> for a backing resource.</summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<IResourceWithConnectionString> source)
    {
        builder.Resource.References.Add((Resource)source.Resource);
        return builder;
    }

    /// <summary>Injects <c>services__{name}__http__{i}</c> for every replica of another project.</summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ProjectResource> source)
    {
        builder.Resource.References.Add(source.Resource);
        return builder;
    }

    /// <summary>Starts this resource only once <paramref name="dependency"/> is healthy.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<Resource> dependency)
        where T : Resource
    {
        builder.Resource.WaitsFor.Add(dependency.Resource);
        return builder;
    }

    public static IResourceBuilder<T> WithReplicas<T>(this IResourceBuilder<T> builder, int replicas)
        where T : ProcessResource
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        builder.Resource.Replicas = replicas;
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, string value)
    {
        builder.Resource.Environment[name] = value;
        return builder;
    }

    /// <summary>Passes a parameter's value (resolved at start) in an environment variable.</summary>
    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, IResourceBuilder<ParameterResource> parameter)
    {
        builder.Resource.Environment[name] = parameter.Resource;
        return builder;
    }

    /// <summary>
    /// Gives the project a folder of its own under the state folder (kept between runs, like a volume), named in the
    /// environment variable <paramref name="env"/>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDataDirectory(this IResourceBuilder<ProjectResource> builder, string env)
    {
        builder.Resource.DataDirectoryVariable = env;
        return builder;
    }

    /// <summary>Asks for a fixed HTTP port (honoured when free and ports are not randomised, as in tests).</summary>
    public static IResourceBuilder<ProjectResource> WithHttpEndpoint(this IResourceBuilder<ProjectResource> builder, int port)
    {
        builder.Resource.PreferredPort = port;
        return builder;
    }

    /// <summary>Gives the executable a free port in the environment variable <paramref name="env"/>.</summary>
    public static IResourceBuilder<ExecutableResource> WithHttpEndpoint(this IResourceBuilder<ExecutableResource> builder, string env)
    {
        builder.Resource.PortEnvironmentVariable = env;
        return builder;
    }

    /// <summary>Takes a 200 from <paramref name="path"/> as ready, instead of the default /health.</summary>
    public static IResourceBuilder<ProjectResource> WithHttpHealthCheck(this IResourceBuilder<ProjectResource> builder, string path)
    {
        builder.Resource.HealthPath = path;
        return builder;
    }

    public static IResourceBuilder<ExecutableResource> WithHttpHealthCheck(this IResourceBuilder<ExecutableResource> builder, string path)
    {
        builder.Resource.HealthPath = path;
        return builder;
    }

    /// <summary>
    /// Runs the resource's processes at another CPU priority (<paramref name="nice"/> -20 to 19, 0 the default). Above 0,
    /// a lower priority: when the machine is busy, the others' requests are served first and this one gets what is left.
    /// Below 0, a higher one, as for a server that would have cores of its own in production; it needs the AppHost to
    /// run as root (or with CAP_SYS_NICE), and without that the resource runs at 0 and its log says so.
    /// </summary>
    public static IResourceBuilder<T> WithCpuNice<T>(this IResourceBuilder<T> builder, int nice)
        where T : ProcessResource
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nice, -20);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, 19);
        builder.Resource.CpuNice = nice;
        return builder;
    }

    public static IResourceBuilder<T> WithStartupTimeout<T>(this IResourceBuilder<T> builder, TimeSpan timeout)
        where T : ProcessResource
    {
        builder.Resource.StartupTimeout = timeout;
        return builder;
    }
}
