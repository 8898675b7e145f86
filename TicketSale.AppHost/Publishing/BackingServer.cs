using k8s.Models;

namespace TicketSale.AppHost.Publishing;

/// <summary>
/// What Kubernetes needs to know of an official image that the Aspire model does not say: the user it runs as, how to
/// ask it whether it is ready, what it writes besides its data, and how a cluster of its nodes finds itself.
/// </summary>
internal sealed record BackingServer(int User, IList<string> Probe, string Storage)
{
    public IReadOnlyList<string> WritablePaths { get; init; } = [];

    public Dictionary<string, string>? Config { get; init; }

    /// <summary>Config keys by the path each is mounted at.</summary>
    public Dictionary<string, string> ConfigFiles { get; init; } = [];

    public IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; } = [];

    public IReadOnlyList<V1EnvVar> FieldReferences { get; init; } = [];

    public IReadOnlyList<int> ClusterPorts { get; init; } = [];

    public static BackingServer For(Workload workload) => workload.Resource switch
    {
        RedisResource => new(999, ["sh", "-c", "redis-cli --no-auth-warning -a \"$REDIS_PASSWORD\" ping | grep -q PONG"], "10Gi"),
        PostgresServerResource => new(999, ["pg_isready", "-U", "postgres", "-h", "127.0.0.1"], "20Gi")
        {
            WritablePaths = ["/var/run/postgresql"],
        },
        RabbitMQServerResource => RabbitMq(workload),
        _ => throw new NotSupportedException($"{workload.Name}: no Kubernetes settings for {workload.Resource.GetType().Name}."),
    };

    /// <summary>
    /// RabbitMQ's nodes form one cluster by its Kubernetes peer discovery: each is named by its stable pod name under
    /// the headless service, and node 0 is the seed the others join.
    /// </summary>
    private static BackingServer RabbitMq(Workload workload) => new(999, ["rabbitmq-diagnostics", "-q", "ping"], "10Gi")
    {
        Config = new Dictionary<string, string>
        {
            ["rabbitmq.conf"] = string.Join('\n',
                "cluster_formation.peer_discovery_backend = k8s",
                "cluster_formation.k8s.service_name = " + workload.Name + "-headless",
                "cluster_partition_handling = pause_minority",
                "queue_leader_locator = balanced",
                "loopback_users = none",
                ""),
            ["enabled_plugins"] = "[rabbitmq_management,rabbitmq_peer_discovery_k8s].\n",
        },
        ConfigFiles = new Dictionary<string, string>
        {
            ["rabbitmq.conf"] = "/etc/rabbitmq/rabbitmq.conf",
            ["enabled_plugins"] = "/etc/rabbitmq/enabled_plugins",
        },
        FieldReferences =
        [
            new V1EnvVar { Name = "POD_NAME", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } },
            new V1EnvVar { Name = "POD_NAMESPACE", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" } } },
        ],
        Environment =
        [
            KeyValuePair.Create("RABBITMQ_USE_LONGNAME", "true"),
            KeyValuePair.Create("RABBITMQ_NODENAME", $"rabbit@$(POD_NAME).{workload.Name}-headless.$(POD_NAMESPACE).svc.cluster.local"),
        ],
        // epmd, inter-node and CLI tool traffic.
        ClusterPorts = [4369, 25672, 35672],
    };
}
