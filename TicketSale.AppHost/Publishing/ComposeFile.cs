using YamlDotNet.Serialization;

namespace TicketSale.AppHost.Publishing;

/// <summary>
/// A Docker Compose file for one host, from the same workloads: secrets and settings come from the environment or an
/// <c>.env</c> file beside it (compose refuses to start without them), the .NET services build from the repository's
/// Dockerfiles, and the payment simulator runs only with the <c>dev</c> profile.
/// </summary>
internal static class ComposeFile
{
    private static readonly string[] s_command = ["CMD"];

    public static ModelValues.Target Target { get; } = new(
        // Secret or not, a parameter comes from the environment, and compose refuses to start without it.
        parameter => $"${{{Variable(parameter.Name)}:?}}",
        endpoint => $"${{{Variable(ModelValues.DevelopmentOnlyUrlKey(endpoint))}:-{ModelValues.DevelopmentOnlyDefaultUrl(endpoint)}}}",
        // Compose expands $ itself; the model's own $ (a shell variable of Redis's command line) is the container's.
        text => text.Replace("$", "$$", StringComparison.Ordinal));

    public static string Variable(string name) => name.Replace('-', '_').ToUpperInvariant();

    public static string Write(IReadOnlyList<Workload> workloads)
    {
        var services = new Dictionary<string, object>();
        var volumes = new Dictionary<string, object?>();
        foreach (var workload in workloads)
        {
            var service = new Dictionary<string, object>();
            if (workload.Resource is ProjectResource project)
            {
                service["image"] = $"${{REGISTRY:-ghcr.io/ticketsale}}/{workload.Image}:${{TAG:-latest}}";
                service["build"] = new Dictionary<string, object> { ["context"] = "../..", ["dockerfile"] = $"{Path.GetFileNameWithoutExtension(ProjectPath(project))}/Dockerfile" };
            }
            else
            {
                service["image"] = workload.Image;
            }

            if (workload.Entrypoint is not null)
            {
                service["entrypoint"] = new[] { workload.Entrypoint };
            }

            if (workload.Arguments.Count > 0)
            {
                service["command"] = workload.Arguments;
            }

            service["environment"] = workload.Environment.ToDictionary(e => e.Key, e => e.Value);
            if (workload.External)
            {
                service["ports"] = workload.Endpoints.Where(e => e.IsExternal).Select(e => $"{ModelValues.ContainerPort(e)}:{ModelValues.ContainerPort(e)}").ToList();
            }

            if (workload.DataPaths.Count > 0)
            {
                service["volumes"] = workload.DataPaths.Select((path, i) => $"{workload.Name}-data-{i}:{path}").ToList();
                foreach (var i in Enumerable.Range(0, workload.DataPaths.Count))
                {
                    volumes[$"{workload.Name}-data-{i}"] = null;
                }
            }

            if (workload.Kind == WorkloadKind.Stateful)
            {
                service["healthcheck"] = new Dictionary<string, object>
                {
                    ["test"] = s_command.Concat(BackingServer.For(workload).Probe).Select(Target.Literal).ToList(),
                    ["interval"] = "5s",
                    ["timeout"] = "5s",
                    ["retries"] = 12,
                };
            }

            if (workload.WaitsFor.Count > 0)
            {
                var dependencies = new Dictionary<string, object>();
                foreach (var wait in workload.WaitsFor)
                {
                    // A database waits as its server does.
                    var server = wait.Resource is IResourceWithParent child ? child.Parent : wait.Resource;
                    var dependency = new Dictionary<string, object>
                    {
                        ["condition"] = wait.WaitType == WaitType.WaitForCompletion ? "service_completed_successfully"
                            : server is ContainerResource ? "service_healthy" : "service_started",
                    };
                    if (server.HasAnnotationOfType<DevelopmentOnlyAnnotation>())
                    {
                        dependency["required"] = false;
                    }

                    dependencies.TryAdd(server.Name, dependency);
                }

                service["depends_on"] = dependencies;
            }

            // One host has one port for the public gateway: it runs once there.
            if (workload.Replicas > 1 && workload.Kind == WorkloadKind.Service && !workload.External)
            {
                service["deploy"] = new Dictionary<string, object> { ["replicas"] = workload.Replicas };
            }

            if (workload.DevelopmentOnly)
            {
                service["profiles"] = new[] { "dev" };
            }

            service["restart"] = workload.Kind == WorkloadKind.Job ? "on-failure" : "unless-stopped";
            services[workload.Name] = service;
        }

        var document = new Dictionary<string, object> { ["name"] = "ticketsale", ["services"] = services, ["volumes"] = volumes };
        var serializer = new SerializerBuilder().DisableAliases().Build();
        return "# Generated from the AppHost's model (see docs/operations.md); do not edit by hand.\n" + serializer.Serialize(document);
    }

    private static string ProjectPath(ProjectResource project) =>
        project.GetProjectMetadata().ProjectPath;
}
