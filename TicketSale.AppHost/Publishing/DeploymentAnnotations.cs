namespace TicketSale.AppHost.Publishing;

/// <summary>What a deployment reserves for one instance, and the most it may use (Kubernetes quantities).</summary>
internal sealed record ComputeResourcesAnnotation(string CpuRequest, string MemoryRequest, string CpuLimit, string MemoryLimit) : IResourceAnnotation;

/// <summary>Scale a service out on CPU, from its replica count up to <paramref name="MaxReplicas"/>.</summary>
internal sealed record AutoscaleAnnotation(int MaxReplicas, int CpuUtilizationPercent) : IResourceAnnotation;

/// <summary>Deployed only in development (the payment simulator): elsewhere its address is the operator's to give.</summary>
internal sealed record DevelopmentOnlyAnnotation : IResourceAnnotation;

/// <summary>Deployed as two colours, blue and green, with traffic switched from one to the other on release.</summary>
internal sealed record BlueGreenAnnotation : IResourceAnnotation;

/// <summary>Runs a cluster of this many nodes when deployed (RabbitMQ's quorum queues need three).</summary>
internal sealed record ClusterAnnotation(int Nodes) : IResourceAnnotation;

internal static class DeploymentAnnotationExtensions
{
    public static IResourceBuilder<T> WithComputeResources<T>(this IResourceBuilder<T> resource, string cpuRequest, string memoryRequest, string cpuLimit, string memoryLimit)
        where T : IResource =>
        resource.WithAnnotation(new ComputeResourcesAnnotation(cpuRequest, memoryRequest, cpuLimit, memoryLimit));

    public static IResourceBuilder<T> WithAutoscaling<T>(this IResourceBuilder<T> resource, int maxReplicas, int cpuUtilizationPercent = 70)
        where T : IResource =>
        resource.WithAnnotation(new AutoscaleAnnotation(maxReplicas, cpuUtilizationPercent));

    public static IResourceBuilder<T> AsDevelopmentOnly<T>(this IResourceBuilder<T> resource) where T : IResource =>
        resource.WithAnnotation(new DevelopmentOnlyAnnotation());

    public static IResourceBuilder<T> WithBlueGreenDeployment<T>(this IResourceBuilder<T> resource) where T : IResource =>
        resource.WithAnnotation(new BlueGreenAnnotation());

    public static IResourceBuilder<T> WithClusterNodes<T>(this IResourceBuilder<T> resource, int nodes) where T : IResource =>
        resource.WithAnnotation(new ClusterAnnotation(nodes));
}
