namespace TicketSale.AppHost.Publishing;

/// <summary>How a workload runs once deployed.</summary>
internal enum WorkloadKind
{
    /// <summary>A stateless service (a .NET project with an endpoint).</summary>
    Service,

    /// <summary>Runs to completion before the services start (the migration service).</summary>
    Job,

    /// <summary>A backing server with data of its own to keep.</summary>
    Stateful,
}

/// <summary>One deployable resource of the model, with its values written for a deployment target.</summary>
internal sealed record Workload(
    IResource Resource,
    WorkloadKind Kind,
    string Image,
    string? Entrypoint,
    IReadOnlyList<string> Arguments,
    IReadOnlyList<KeyValuePair<string, string>> Environment,
    IReadOnlyList<EndpointAnnotation> Endpoints,
    IReadOnlyList<string> DataPaths,
    IReadOnlyList<WaitAnnotation> WaitsFor,
    ModelValues.Uses Uses)
{
    public string Name => Resource.Name;

    public int Replicas => Resource.TryGetLastAnnotation<ClusterAnnotation>(out var cluster) ? cluster.Nodes : Resource.GetReplicaCount();

    public bool External => Endpoints.Any(e => e.IsExternal);

    public bool DevelopmentOnly => Resource.HasAnnotationOfType<DevelopmentOnlyAnnotation>();

    public bool BlueGreen => Resource.HasAnnotationOfType<BlueGreenAnnotation>();

    /// <summary>The image the repository builds for a .NET project (<c>TicketSale.Api/Dockerfile</c> builds <c>ticketsale-api</c>).</summary>
    public static string ProjectImage(IResource project) => $"ticketsale-{project.Name}";

    /// <summary>Every resource that runs something, in the model's order, with its values written for <paramref name="target"/>.</summary>
    public static async Task<IReadOnlyList<Workload>> ReadAsync(DistributedApplicationModel model, DistributedApplicationExecutionContext executionContext,
        ModelValues.Target target, CancellationToken cancellationToken)
    {
        var values = new ModelValues(executionContext, target);
        var workloads = new List<Workload>();
        foreach (var resource in model.Resources.Where(r => r is ProjectResource or ContainerResource))
        {
            var uses = new ModelValues.Uses(resource);
            var environment = (await values.EnvironmentAsync(resource, cancellationToken).ConfigureAwait(false))
                .Select(e => KeyValuePair.Create(e.Key, values.Render(e.Value, uses)))
                .ToList();
            var arguments = (await values.ArgumentsAsync(resource, cancellationToken).ConfigureAwait(false))
                .Select(a => values.Render(a, uses))
                .ToList();
            // A service's own endpoint (its HTTP_PORTS) is no path across the network.
            uses.Endpoints.Remove(resource);
            var endpoints = resource.Annotations.OfType<EndpointAnnotation>().ToList();
            var waits = resource.Annotations.OfType<WaitAnnotation>().ToList();

            workloads.Add(resource switch
            {
                ProjectResource => new Workload(resource, endpoints.Count == 0 ? WorkloadKind.Job : WorkloadKind.Service, ProjectImage(resource),
                    null, arguments, environment, endpoints, [], waits, uses),
                ContainerResource container => new Workload(resource, WorkloadKind.Stateful, ContainerImage(container), container.Entrypoint,
                    arguments, environment, endpoints,
                    [.. container.Annotations.OfType<ContainerMountAnnotation>().Where(m => m.Type == ContainerMountType.Volume).Select(m => m.Target)],
                    waits, uses),
                _ => throw new NotSupportedException(resource.GetType().Name),
            });
        }

        return workloads;
    }

    private static string ContainerImage(ContainerResource container)
    {
        var image = container.Annotations.OfType<ContainerImageAnnotation>().Last();
        return $"{image.Registry}/{image.Image}:{image.Tag}".TrimStart('/');
    }
}
