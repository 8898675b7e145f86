using TicketSale.AppHost.Hosting.Processes;

namespace TicketSale.AppHost.Hosting.Resources;

/// <summary>A resource that runs as one or more local processes (replicas).</summary>
public abstract class ProcessResource(string name) : Resource(name)
{
    public int Replicas { get; internal set; } = 1;

    /// <summary>How long the resource may take from launch to healthy before start-up fails.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The scheduling niceness of its processes (-20 to 19, 0 the default). On a machine the resources share, a higher
    /// value makes this one yield the CPU to the others when they compete for it, as a smaller CPU request does in
    /// Kubernetes; it still gets all the CPU nobody else wants. A negative value makes it run first, as a server with
    /// cores of its own would (it needs root).
    /// </summary>
    public int CpuNice { get; internal set; }

    internal virtual IEnumerable<Prerequisite> Prerequisites => [];

    /// <summary>Allocates ports and other per-run values before anything starts, so references can be resolved.</summary>
    internal abstract void Allocate(RunContext context);

    /// <summary>Prepares data folders and configuration files; runs once per start of the resource.</summary>
    internal virtual Task PrepareAsync(RunContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    internal abstract ProcessSpec CreateProcessSpec(RunContext context, int replica);

    /// <summary>One health probe; <c>true</c> when the replica serves real requests.</summary>
    internal abstract Task<bool> ProbeAsync(RunContext context, int replica, CancellationToken cancellationToken);

    /// <summary>Runs once the resource is healthy (e.g. creates databases).</summary>
    internal virtual Task OnHealthyAsync(RunContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>What an operator would open or connect to, for the resource table.</summary>
    internal abstract string DescribeEndpoint(int replica);

    internal string ReplicaName(int replica) => Replicas == 1 ? Name : $"{Name}-{replica}";
}
