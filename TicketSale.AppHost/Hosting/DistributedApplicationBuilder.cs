using TicketSale.AppHost.Hosting.Resources;
using TicketSale.AppHost.Hosting.Testing;

namespace TicketSale.AppHost.Hosting;

/// <summary>Declares the resources of the application, in Aspire's vocabulary.</summary>
public sealed class DistributedApplicationBuilder
{
    private readonly List<Resource> _resources = [];
    private readonly TestingSession? _testing;

    internal DistributedApplicationBuilder(string[] args)
    {
        _testing = TestingSession.Current;
        if (_testing is not null)
        {
            TestingSession.ApplyDefaults(Options);
        }
        else
        {
            Options.ApplyCommandLine(args);
        }
    }

    public DistributedApplicationOptions Options { get; } = new();

    public IReadOnlyList<Resource> Resources => _resources;

    public IResourceBuilder<RedisResource> AddRedis(string name) => AddResource(new RedisResource(name));

    public IResourceBuilder<PostgresServerResource> AddPostgres(string name) => AddResource(new PostgresServerResource(name));

    public IResourceBuilder<RabbitMQServerResource> AddRabbitMQ(string name)
    {
        var broker = new RabbitMQServerResource(name);
        AddResource(broker.Epmd);
        return AddResource(broker);
    }

    public IResourceBuilder<ProjectResource> AddProject<TProject>(string name) where TProject : IProjectMetadata, new() =>
        AddResource(new ProjectResource(name, new TProject().ProjectPath));

    public IResourceBuilder<ParameterResource> AddParameter(string name, bool secret = false) => AddResource(new ParameterResource(name, secret));

    /// <summary>A builder for a resource declared elsewhere (tests adjust the AppHost's model with it).</summary>
    public IResourceBuilder<T> CreateResourceBuilder<T>(string name) where T : Resource =>
        new ResourceBuilder<T>(_resources.OfType<T>().Single(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)), this);

    public IResourceBuilder<ExecutableResource> AddExecutable(string name, string command, params string[] arguments) =>
        AddResource(new ExecutableResource(name, command, arguments));

    internal IResourceBuilder<T> AddResource<T>(T resource) where T : Resource
    {
        if (_resources.Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"A resource named '{resource.Name}' already exists.");
        }

        _resources.Add(resource);
        return new ResourceBuilder<T>(resource, this);
    }

    public DistributedApplication Build()
    {
        _testing?.Configure?.Invoke(this);
        var app = new DistributedApplication(Options, _resources);
        if (_testing is not null)
        {
            _testing.Application = app;
        }

        return app;
    }
}
