using System.Text;
using k8s;
using k8s.Models;

namespace TicketSale.AppHost.Publishing;

/// <summary>
/// Kubernetes objects for the model's workloads: a kustomize base (plain YAML that every tool reads, each environment
/// an overlay of a few lines) rather than a Helm chart, whose templates are not YAML until rendered and could not be
/// checked object by object. Secrets and configuration are keys whose values the operator gives.
/// </summary>
internal static class KubernetesManifests
{
    public const string PartOf = "ticketsale";
    public const string NameLabel = "app.kubernetes.io/name";
    public const string ColourLabel = "ticketsale/colour";
    public const string SecretName = "ticketsale-secrets";
    public const string ConfigName = "ticketsale-config";
    public const string IngressTlsSecret = "ticketsale-tls";
    public static readonly string[] Colours = ["blue", "green"];
    public static readonly string[] Environments = ["dev", "staging", "production"];

    /// <summary>Writes a target's references: a secret parameter as the variable its pod reads from the Secret.</summary>
    public static ModelValues.Target Target { get; } = new(
        parameter => $"$({Variable(parameter)})",
        endpoint => $"$({ConfigVariable(ModelValues.DevelopmentOnlyUrlKey(endpoint))})",
        text => text.Replace("$(", "$$(", StringComparison.Ordinal));

    public static string Variable(ParameterResource parameter) =>
        (parameter.Secret ? "SECRET_" : "CONFIG_") + parameter.Name.Replace('-', '_').ToUpperInvariant();

    public static string ConfigVariable(string key) => "CONFIG_" + key.Replace('-', '_').ToUpperInvariant();

    /// <summary>The files, by path under the output folder.</summary>
    public static SortedDictionary<string, string> Write(IReadOnlyList<Workload> workloads)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var shared = workloads.Where(w => !w.DevelopmentOnly).ToList();
        var baseFiles = new List<string>();
        void Add(string folder, string name, List<object> objects, List<string>? list = null)
        {
            files[$"kubernetes/{folder}/{name}"] = Yaml(objects);
            list?.Add(name);
        }

        var parameters = workloads.SelectMany(w => w.Uses.Parameters).Distinct().OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        var configKeys = parameters.Where(p => !p.Secret).Select(p => p.Name)
            .Concat(workloads.SelectMany(w => w.Uses.DevelopmentOnly).Distinct().Select(ModelValues.DevelopmentOnlyUrlKey))
            .Order(StringComparer.Ordinal).ToList();
        Add("base", "config.yaml", [ConfigMap(configKeys)], baseFiles);
        Add("base", "secrets.yaml", [Secret(parameters.Where(p => p.Secret))], baseFiles);
        foreach (var workload in shared)
        {
            Add("base", $"{workload.Name}.yaml", Objects(workload), baseFiles);
        }

        Add("base", "network-policies.yaml", [DenyAllIngress(), .. shared.Select(w => NetworkPolicy(w, workloads))], baseFiles);
        Add("base", "ingress.yaml", [.. shared.Where(w => w.External).Select(Ingress)], baseFiles);
        files["kubernetes/base/kustomization.yaml"] = BaseKustomization(baseFiles);

        foreach (var environment in Environments)
        {
            var overlayFiles = new List<string>();
            if (environment == "dev")
            {
                foreach (var workload in workloads.Where(w => w.DevelopmentOnly))
                {
                    Add($"overlays/{environment}", $"{workload.Name}.yaml", [.. Objects(workload), NetworkPolicy(workload, workloads)], overlayFiles);
                }
            }

            files[$"kubernetes/overlays/{environment}/kustomization.yaml"] = OverlayKustomization(environment, overlayFiles, configKeys, shared, workloads);
        }

        files["kubernetes/secrets.env.example"] = string.Concat(parameters.Where(p => p.Secret).Select(p => $"{p.Name}=\n"));
        return files;
    }

    private static string Yaml(IEnumerable<object> objects) =>
        string.Join("---\n", objects.Select(o => KubernetesYaml.Serialize(o).TrimEnd() + "\n"));

    private static Dictionary<string, string> Labels(string name, string? colour = null)
    {
        var labels = new Dictionary<string, string> { [NameLabel] = name, ["app.kubernetes.io/part-of"] = PartOf };
        if (colour is not null)
        {
            labels[ColourLabel] = colour;
        }

        return labels;
    }

    private static V1ObjectMeta Metadata(string name, IDictionary<string, string> labels) => new() { Name = name, Labels = labels };

    private static V1ConfigMap ConfigMap(IEnumerable<string> keys) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = Metadata(ConfigName, Labels(PartOf)),
        Data = keys.ToDictionary(k => k, _ => ""),
    };

    // Keys only: each overlay replaces the values from its secrets.env, which never enters the repository.
    private static V1Secret Secret(IEnumerable<ParameterResource> secrets) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = "Opaque",
        Metadata = Metadata(SecretName, Labels(PartOf)),
        StringData = secrets.ToDictionary(p => p.Name, _ => ""),
    };

    private static List<object> Objects(Workload workload)
    {
        var objects = new List<object>();
        switch (workload.Kind)
        {
            case WorkloadKind.Job:
                objects.Add(new V1Job
                {
                    ApiVersion = "batch/v1",
                    Kind = "Job",
                    Metadata = Metadata(workload.Name, Labels(workload.Name)),
                    Spec = new V1JobSpec { BackoffLimit = 3, Template = PodTemplate(workload, null, "OnFailure") },
                });
                break;
            case WorkloadKind.Service when workload.BlueGreen:
                foreach (var colour in Colours)
                {
                    objects.Add(Deployment(workload, colour, colour == Colours[0] ? workload.Replicas : 0));
                }

                break;
            case WorkloadKind.Service:
                objects.Add(Deployment(workload, null, workload.Replicas));
                break;
            case WorkloadKind.Stateful:
                objects.AddRange(Stateful(workload));
                break;
        }

        if (workload.Endpoints.Count > 0)
        {
            objects.Add(Service(workload.Name, workload, workload.BlueGreen ? Colours[0] : null, headless: false));
            if (workload.BlueGreen)
            {
                // One per colour, so a release can be smoke-tested before the switch.
                objects.AddRange(Colours.Select(colour => Service($"{workload.Name}-{colour}", workload, colour, headless: false)));
            }
        }

        if (workload.Resource.TryGetLastAnnotation<AutoscaleAnnotation>(out var autoscale))
        {
            objects.Add(new V2HorizontalPodAutoscaler
            {
                ApiVersion = "autoscaling/v2",
                Kind = "HorizontalPodAutoscaler",
                Metadata = Metadata(workload.Name, Labels(workload.Name)),
                Spec = new V2HorizontalPodAutoscalerSpec
                {
                    // The live colour's Deployment; the blue-green switch moves it.
                    ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = DeploymentName(workload, workload.BlueGreen ? Colours[0] : null) },
                    MinReplicas = workload.Replicas,
                    MaxReplicas = autoscale.MaxReplicas,
                    Metrics =
                    [
                        new V2MetricSpec
                        {
                            Type = "Resource",
                            Resource = new V2ResourceMetricSource { Name = "cpu", Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = autoscale.CpuUtilizationPercent } },
                        },
                    ],
                },
            });
        }

        if (workload.Replicas > 1)
        {
            objects.Add(new V1PodDisruptionBudget
            {
                ApiVersion = "policy/v1",
                Kind = "PodDisruptionBudget",
                Metadata = Metadata(workload.Name, Labels(workload.Name)),
                Spec = new V1PodDisruptionBudgetSpec
                {
                    // One pod at a time: the rest keep serving, and RabbitMQ's three nodes keep their quorum.
                    MaxUnavailable = 1,
                    Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [NameLabel] = workload.Name } },
                },
            });
        }

        return objects;
    }

    public static string DeploymentName(Workload workload, string? colour) => colour is null ? workload.Name : $"{workload.Name}-{colour}";

    private static V1Deployment Deployment(Workload workload, string? colour, int replicas) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = Metadata(DeploymentName(workload, colour), Labels(workload.Name, colour)),
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = SelectorLabels(workload.Name, colour) },
            Strategy = new V1DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = 0, MaxSurge = 1 } },
            Template = PodTemplate(workload, colour, "Always"),
        },
    };

    private static Dictionary<string, string> SelectorLabels(string name, string? colour)
    {
        var labels = new Dictionary<string, string> { [NameLabel] = name };
        if (colour is not null)
        {
            labels[ColourLabel] = colour;
        }

        return labels;
    }

    private static List<object> Stateful(Workload workload)
    {
        var server = BackingServer.For(workload);
        var objects = new List<object>();
        if (server.Config is { } config)
        {
            objects.Add(new V1ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = Metadata($"{workload.Name}-config", Labels(workload.Name)), Data = config });
        }

        objects.Add(new V1StatefulSet
        {
            ApiVersion = "apps/v1",
            Kind = "StatefulSet",
            Metadata = Metadata(workload.Name, Labels(workload.Name)),
            Spec = new V1StatefulSetSpec
            {
                ServiceName = $"{workload.Name}-headless",
                Replicas = workload.Replicas,
                PodManagementPolicy = workload.Replicas > 1 ? "Parallel" : "OrderedReady",
                Selector = new V1LabelSelector { MatchLabels = SelectorLabels(workload.Name, null) },
                Template = PodTemplate(workload, null, "Always"),
                VolumeClaimTemplates = [.. workload.DataPaths.Select((_, i) => new V1PersistentVolumeClaim
                {
                    Metadata = new V1ObjectMeta { Name = $"data-{i}" },
                    Spec = new V1PersistentVolumeClaimSpec
                    {
                        AccessModes = ["ReadWriteOnce"],
                        Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(server.Storage) } },
                    },
                })],
            },
        });
        objects.Add(Service($"{workload.Name}-headless", workload, null, headless: true));
        return objects;
    }

    private static V1Service Service(string name, Workload workload, string? colour, bool headless) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Metadata(name, Labels(workload.Name, colour)),
        Spec = new V1ServiceSpec
        {
            ClusterIP = headless ? "None" : null,
            // Cluster nodes must find each other before they are ready.
            PublishNotReadyAddresses = headless ? true : null,
            Selector = SelectorLabels(workload.Name, colour),
            Ports = [.. workload.Endpoints.Select(e => new V1ServicePort { Name = e.Name, Port = ModelValues.ContainerPort(e), TargetPort = e.Name, Protocol = "TCP" })],
        },
    };

    private static V1PodTemplateSpec PodTemplate(Workload workload, string? colour, string restartPolicy)
    {
        var server = workload.Kind == WorkloadKind.Stateful ? BackingServer.For(workload) : null;
        var user = server?.User ?? 1654; // the .NET images' non-root "app" user
        var container = new V1Container
        {
            Name = workload.Name,
            Image = workload.Image,
            Command = workload.Entrypoint is null ? null : [workload.Entrypoint],
            Args = workload.Arguments.Count == 0 ? null : [.. workload.Arguments],
            Env = EnvironmentVariables(workload, server),
            Ports = [.. workload.Endpoints.Select(e => new V1ContainerPort { Name = e.Name, ContainerPort = ModelValues.ContainerPort(e), Protocol = "TCP" })],
            Resources = Resources(workload),
            SecurityContext = new V1SecurityContext
            {
                RunAsNonRoot = true,
                RunAsUser = user,
                RunAsGroup = user,
                ReadOnlyRootFilesystem = true,
                AllowPrivilegeEscalation = false,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
            },
            VolumeMounts =
            [
                new V1VolumeMount { Name = "tmp", MountPath = "/tmp" },
                .. workload.DataPaths.Select((path, i) => new V1VolumeMount { Name = $"data-{i}", MountPath = path }),
                .. (server?.WritablePaths ?? []).Select((path, i) => new V1VolumeMount { Name = $"run-{i}", MountPath = path }),
                .. (server?.Config is null ? [] : server.ConfigFiles.Select(f => new V1VolumeMount { Name = "config", MountPath = f.Value, SubPath = f.Key, ReadOnlyProperty = true })),
            ],
        };

        if (workload.Kind == WorkloadKind.Service && workload.Endpoints.FirstOrDefault(e => e.UriScheme == "http") is { } http)
        {
            container.LivenessProbe = HttpProbe("/alive", http.Name, periodSeconds: 10, failureThreshold: 3);
            container.ReadinessProbe = HttpProbe("/health", http.Name, periodSeconds: 5, failureThreshold: 2);
            container.StartupProbe = HttpProbe("/alive", http.Name, periodSeconds: 2, failureThreshold: 60);
        }
        else if (server is not null)
        {
            container.ReadinessProbe = new V1Probe { Exec = new V1ExecAction { Command = server.Probe }, PeriodSeconds = 10, TimeoutSeconds = 5, FailureThreshold = 3 };
            container.LivenessProbe = new V1Probe { Exec = new V1ExecAction { Command = server.Probe }, PeriodSeconds = 20, TimeoutSeconds = 5, FailureThreshold = 6, InitialDelaySeconds = 30 };
        }

        return new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = Labels(workload.Name, colour) },
            Spec = new V1PodSpec
            {
                RestartPolicy = restartPolicy,
                AutomountServiceAccountToken = false,
                // A release's last requests finish before its pods go (the blue-green switch waits for them too).
                TerminationGracePeriodSeconds = 30,
                SecurityContext = new V1PodSecurityContext { RunAsNonRoot = true, FsGroup = user, SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" } },
                Containers = [container],
                Volumes =
                [
                    new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() },
                    .. (server?.WritablePaths ?? []).Select((_, i) => new V1Volume { Name = $"run-{i}", EmptyDir = new V1EmptyDirVolumeSource() }),
                    .. (server?.Config is null ? Array.Empty<V1Volume>() : [new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = $"{workload.Name}-config" } }]),
                ],
            },
        };
    }

    private static V1Probe HttpProbe(string path, string port, int periodSeconds, int failureThreshold) =>
        new() { HttpGet = new V1HTTPGetAction { Path = path, Port = port }, PeriodSeconds = periodSeconds, TimeoutSeconds = 3, FailureThreshold = failureThreshold };

    private static V1ResourceRequirements? Resources(Workload workload) =>
        workload.Resource.TryGetLastAnnotation<ComputeResourcesAnnotation>(out var compute)
            ? new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(compute.CpuRequest), ["memory"] = new(compute.MemoryRequest) },
                Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(compute.CpuLimit), ["memory"] = new(compute.MemoryLimit) },
            }
            : throw new InvalidOperationException($"{workload.Name} has no compute resources: give it WithComputeResources.");

    /// <summary>
    /// The pod's environment. A value that is one secret or setting comes straight from its key; a value that embeds
    /// some (a connection string) reads them from variables declared first, which Kubernetes expands in <c>$(…)</c>.
    /// </summary>
    private static List<V1EnvVar> EnvironmentVariables(Workload workload, BackingServer? server)
    {
        var references = workload.Uses.Parameters.Select(p => (Variable: Variable(p), Source: p.Secret
                ? new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = SecretName, Key = p.Name } }
                : new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = ConfigName, Key = p.Name } }))
            .Concat(workload.Uses.DevelopmentOnly.Select(e => (Variable: ConfigVariable(ModelValues.DevelopmentOnlyUrlKey(e)),
                Source: new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = ConfigName, Key = ModelValues.DevelopmentOnlyUrlKey(e) } })))
            .OrderBy(r => r.Variable, StringComparer.Ordinal)
            .ToList();

        var declared = new List<V1EnvVar>();
        var values = new List<V1EnvVar>();
        foreach (var (name, value) in workload.Environment.Concat(server?.Environment ?? []))
        {
            if (references.FirstOrDefault(r => value == $"$({r.Variable})") is { Variable: not null } whole)
            {
                values.Add(new V1EnvVar { Name = name, ValueFrom = whole.Source });
            }
            else
            {
                values.Add(new V1EnvVar { Name = name, Value = value });
            }
        }

        var embedded = values.Where(v => v.Value is not null).Select(v => v.Value).Concat(workload.Arguments).ToList();
        foreach (var (variable, source) in references.Where(r => embedded.Any(text => text.Contains($"$({r.Variable})", StringComparison.Ordinal))))
        {
            declared.Add(new V1EnvVar { Name = variable, ValueFrom = source });
        }

        return [.. (server?.FieldReferences ?? []), .. declared, .. values];
    }

    private static V1NetworkPolicy DenyAllIngress() => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "NetworkPolicy",
        Metadata = Metadata("default-deny-ingress", Labels(PartOf)),
        Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress"] },
    };

    /// <summary>
    /// Who may open a connection to a workload: the services that reference it, on the ports they reference; its own
    /// nodes (a cluster); from anywhere only the external gateway (through the ingress controller).
    /// </summary>
    private static V1NetworkPolicy NetworkPolicy(Workload workload, IReadOnlyList<Workload> all)
    {
        var rules = new List<V1NetworkPolicyIngressRule>();
        if (workload.External)
        {
            rules.Add(new V1NetworkPolicyIngressRule { Ports = [.. workload.Endpoints.Where(e => e.IsExternal).Select(e => new V1NetworkPolicyPort { Port = ModelValues.ContainerPort(e), Protocol = "TCP" })] });
        }

        foreach (var client in all.Where(c => c.Uses.Endpoints.ContainsKey(workload.Resource)))
        {
            rules.Add(new V1NetworkPolicyIngressRule
            {
                FromProperty = [new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [NameLabel] = client.Name } } }],
                Ports = [.. client.Uses.Endpoints[workload.Resource].Select(p => new V1NetworkPolicyPort { Port = p, Protocol = "TCP" })],
            });
        }

        if (workload.Replicas > 1 && workload.Kind == WorkloadKind.Stateful && BackingServer.For(workload).ClusterPorts is { Count: > 0 } clusterPorts)
        {
            rules.Add(new V1NetworkPolicyIngressRule
            {
                FromProperty = [new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [NameLabel] = workload.Name } } }],
                Ports = [.. clusterPorts.Select(p => new V1NetworkPolicyPort { Port = p, Protocol = "TCP" })],
            });
        }

        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = Metadata(workload.Name, Labels(workload.Name)),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [NameLabel] = workload.Name } },
                PolicyTypes = ["Ingress"],
                Ingress = rules,
            },
        };
    }

    private static V1Ingress Ingress(Workload workload)
    {
        var endpoint = workload.Endpoints.First(e => e.IsExternal);
        return new V1Ingress
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "Ingress",
            Metadata = Metadata(workload.Name, Labels(workload.Name)),
            Spec = new V1IngressSpec
            {
                Tls = [new V1IngressTLS { Hosts = ["tickets.example.com"], SecretName = IngressTlsSecret }],
                Rules =
                [
                    new V1IngressRule
                    {
                        Host = "tickets.example.com",
                        Http = new V1HTTPIngressRuleValue
                        {
                            Paths =
                            [
                                new V1HTTPIngressPath
                                {
                                    Path = "/",
                                    PathType = "Prefix",
                                    Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = workload.Name, Port = new V1ServiceBackendPort { Name = endpoint.Name } } },
                                },
                            ],
                        },
                    },
                ],
            },
        };
    }

    private static string BaseKustomization(IEnumerable<string> files)
    {
        var text = new StringBuilder();
        text.Append("# Generated from the AppHost's model (see docs/operations.md); do not edit by hand.\n");
        text.Append("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nlabels:\n- pairs:\n    app.kubernetes.io/part-of: ticketsale\nresources:\n");
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            text.Append("- ").Append(file).Append('\n');
        }

        return text.ToString();
    }

    private static string OverlayKustomization(string environment, IEnumerable<string> files, IReadOnlyList<string> configKeys,
        IEnumerable<Workload> shared, IReadOnlyList<Workload> all)
    {
        var text = new StringBuilder();
        text.Append("# Generated from the AppHost's model (see docs/operations.md); do not edit by hand.\n");
        text.Append("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
        text.Append("namespace: ticketsale-").Append(environment).Append('\n');
        text.Append("resources:\n- ../../base\n");
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            text.Append("- ").Append(file).Append('\n');
        }

        // The values: secrets.env (never in the repository) beside this file, and the settings below.
        text.Append("secretGenerator:\n- name: ").Append(SecretName).Append("\n  behavior: replace\n  envs:\n  - secrets.env\n");
        text.Append("configMapGenerator:\n- name: ").Append(ConfigName).Append("\n  behavior: replace\n  literals:\n");
        var developmentOnly = all.Where(w => w.DevelopmentOnly).SelectMany(w => w.Endpoints.Select(e => new ModelValues.DevelopmentOnlyEndpoint(w.Resource, e)))
            .ToDictionary(ModelValues.DevelopmentOnlyUrlKey);
        foreach (var key in configKeys)
        {
            var value = environment == "dev" && developmentOnly.TryGetValue(key, out var endpoint)
                ? ModelValues.DevelopmentOnlyDefaultUrl(endpoint)
                : key == "public-base-url" ? $"https://{Host(environment)}" : "";
            text.Append("  - ").Append(key).Append('=').Append(value).Append('\n');
        }

        // The images CI pushed: the pipeline sets the registry and the release's tag here (kustomize edit set image).
        text.Append("images:\n");
        foreach (var workload in shared.Concat(environment == "dev" ? all.Where(w => w.DevelopmentOnly) : []).Where(w => w.Resource is ProjectResource))
        {
            text.Append("- name: ").Append(workload.Image).Append("\n  newName: ghcr.io/ticketsale/").Append(workload.Image).Append("\n  newTag: latest\n");
        }

        text.Append("patches:\n");
        foreach (var external in shared.Where(w => w.External))
        {
            text.Append("- target:\n    kind: Ingress\n    name: ").Append(external.Name).Append("\n  patch: |-\n");
            text.Append("    - op: replace\n      path: /spec/rules/0/host\n      value: ").Append(Host(environment)).Append('\n');
            text.Append("    - op: replace\n      path: /spec/tls/0/hosts/0\n      value: ").Append(Host(environment)).Append('\n');
        }

        return text.ToString();
    }

    private static string Host(string environment) => environment == "production" ? "tickets.example.com" : $"{environment}.tickets.example.com";
}
