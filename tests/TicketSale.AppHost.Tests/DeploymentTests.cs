using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace TicketSale.AppHost.Tests;

/// <summary>
/// What operators deploy, generated from the same model that <c>./run.sh</c> runs: Kubernetes manifests, a compose
/// file, the images' Dockerfiles and the CI/CD pipeline, checked without a cluster, a container engine or a registry.
/// </summary>
public sealed partial class DeploymentTests(PublishedDeployment deployment, PublishedManifest manifest)
    : IClassFixture<PublishedDeployment>, IClassFixture<PublishedManifest>
{
    private static readonly string s_root = PublishedDeployment.RepositoryRoot;

    [Fact]
    public void The_committed_deployment_files_are_what_the_model_generates()
    {
        var committed = Directory.EnumerateFiles(Path.Combine(s_root, "deploy"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(s_root, "deploy"), f).Replace('\\', '/'))
            .Where(f => (f.StartsWith("kubernetes/", StringComparison.Ordinal) || f.StartsWith("compose/", StringComparison.Ordinal))
                && Path.GetFileName(f) is not "secrets.env" and not ".env")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(deployment.Files.Keys, committed);
        foreach (var (path, text) in deployment.Files)
        {
            Assert.True(text == File.ReadAllText(Path.Combine(s_root, "deploy", path)),
                $"deploy/{path} differs from the model's: run `dotnet run --project TicketSale.AppHost -- --operation publish --step publish-deployment`.");
        }
    }

    [Fact]
    public void Every_document_parses_strictly_and_a_field_the_model_does_not_know_would_fail()
    {
        Assert.Contains(deployment.Base, o => o is V1Deployment);
        Assert.All(deployment.Base.Concat(deployment.Overlays.Values.SelectMany(o => o)), o => Assert.False(string.IsNullOrEmpty(o.ApiVersion + o.Kind)));
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicaz: 2\n", strict: true));
    }

    [Fact]
    public void Every_secret_setting_service_port_and_reference_a_pod_uses_exists()
    {
        var secret = deployment.Base.OfType<V1Secret>().Single(s => s.Metadata.Name == "ticketsale-secrets");
        var config = deployment.Base.OfType<V1ConfigMap>().Single(c => c.Metadata.Name == "ticketsale-config");
        // Keys only: the values are the operator's (each overlay's secrets.env, listed in secrets.env.example).
        Assert.All(secret.StringData.Values, value => Assert.Equal("", value));
        Assert.Equal(secret.StringData.Keys.Order(StringComparer.Ordinal),
            deployment.Files["kubernetes/secrets.env.example"].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('=')));
        foreach (var environment in PublishedDeployment.Environments)
        {
            var kustomization = deployment.Yaml($"kubernetes/overlays/{environment}/kustomization.yaml");
            var literals = ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)kustomization["configMapGenerator"])[0])["literals"])
                .Select(l => ((YamlScalarNode)l).Value!.Split('=')[0]);
            Assert.Equal(config.Data.Keys.Order(StringComparer.Ordinal), literals.Order(StringComparer.Ordinal));
            var resources = ((YamlSequenceNode)kustomization["resources"]).Select(r => ((YamlScalarNode)r).Value!).ToList();
            Assert.All(resources.Skip(1), r => Assert.True(deployment.Files.ContainsKey($"kubernetes/overlays/{environment}/{r}"), r));

            var objects = deployment.Environment(environment);
            var templates = PublishedDeployment.PodTemplates(objects).ToList();
            foreach (var container in templates.SelectMany(t => t.Spec.Containers))
            {
                var defined = new HashSet<string>();
                foreach (var variable in container.Env ?? [])
                {
                    if (variable.ValueFrom?.SecretKeyRef is { } secretKey)
                    {
                        Assert.True(secretKey.Name == secret.Metadata.Name && secret.StringData.ContainsKey(secretKey.Key), $"{container.Name}: secret {secretKey.Name}/{secretKey.Key}");
                    }

                    if (variable.ValueFrom?.ConfigMapKeyRef is { } configKey)
                    {
                        Assert.True(configKey.Name == config.Metadata.Name && config.Data.ContainsKey(configKey.Key), $"{container.Name}: setting {configKey.Name}/{configKey.Key}");
                    }

                    // Kubernetes expands $(NAME) only from variables declared before.
                    foreach (Match reference in PublishedDeployment.VariableReference().Matches(variable.Value ?? ""))
                    {
                        Assert.True(defined.Contains(reference.Groups[1].Value), $"{container.Name}: {variable.Name} uses $({reference.Groups[1].Value}) before it is declared");
                    }

                    defined.Add(variable.Name);
                }

                foreach (Match reference in (container.Args ?? []).SelectMany(a => PublishedDeployment.VariableReference().Matches(a)))
                {
                    Assert.Contains(reference.Groups[1].Value, defined);
                }
            }

            foreach (var service in objects.OfType<V1Service>())
            {
                var selected = templates.Where(t => PublishedDeployment.Selects(service.Spec.Selector, t.Metadata.Labels)).ToList();
                Assert.True(selected.Count > 0, $"{environment}: service {service.Metadata.Name} selects no pod");
                foreach (var port in service.Spec.Ports)
                {
                    Assert.All(selected, t => Assert.Contains(t.Spec.Containers.SelectMany(c => c.Ports ?? []), p => p.Name == port.TargetPort.Value && p.ContainerPort == port.Port));
                }
            }

            foreach (var ingress in objects.OfType<V1Ingress>())
            {
                var backend = ingress.Spec.Rules.Single().Http.Paths.Single().Backend.Service;
                Assert.Contains(objects.OfType<V1Service>(), s => s.Metadata.Name == backend.Name && s.Spec.Ports.Any(p => p.Name == backend.Port.Name));
                Assert.Equal("ticketsale-tls", ingress.Spec.Tls.Single().SecretName);
            }

            foreach (var autoscaler in objects.OfType<V2HorizontalPodAutoscaler>())
            {
                Assert.Contains(objects.OfType<V1Deployment>(), d => d.Metadata.Name == autoscaler.Spec.ScaleTargetRef.Name);
            }

            foreach (var budget in objects.OfType<V1PodDisruptionBudget>())
            {
                Assert.Contains(templates, t => PublishedDeployment.Selects(budget.Spec.Selector.MatchLabels, t.Metadata.Labels));
            }

            foreach (var statefulSet in objects.OfType<V1StatefulSet>())
            {
                Assert.Contains(objects.OfType<V1Service>(), s => s.Metadata.Name == statefulSet.Spec.ServiceName && s.Spec.ClusterIP == "None");
            }

            foreach (var template in templates)
            {
                var volumes = (template.Spec.Volumes ?? []).Select(v => v.Name).ToHashSet();
                foreach (var volume in template.Spec.Volumes ?? [])
                {
                    Assert.True(volume.ConfigMap is null || objects.OfType<V1ConfigMap>().Any(c => c.Metadata.Name == volume.ConfigMap.Name), volume.Name);
                }

                var claims = objects.OfType<V1StatefulSet>().Where(s => s.Spec.Template == template).SelectMany(s => s.Spec.VolumeClaimTemplates ?? []).Select(c => c.Metadata.Name);
                volumes.UnionWith(claims);
                Assert.All(template.Spec.Containers.SelectMany(c => c.VolumeMounts ?? []), m => Assert.Contains(m.Name, volumes));
            }
        }
    }

    /// <summary>
    /// The paths the network allows are the model's references: who may connect to a workload is read here from
    /// Aspire's own manifest of the model, independently of the publisher.
    /// </summary>
    [Fact]
    public void Network_policies_admit_exactly_the_paths_of_the_models_references()
    {
        var resources = manifest.Resources;
        var deployed = resources.Where(r => (string)r.Value!["type"]! is "container.v0" or "project.v0").Select(r => r.Key).ToHashSet();
        var expected = deployed.ToDictionary(d => d, _ => new SortedSet<string>(StringComparer.Ordinal));
        foreach (var client in deployed)
        {
            foreach (var target in References(resources, resources[client]!["env"]?.ToJsonString() + resources[client]!["args"]?.ToJsonString(), []))
            {
                if (target != client)
                {
                    expected[target].Add(client);
                }
            }
        }

        var developmentOnly = deployment.Overlays["dev"].OfType<V1Deployment>().Select(d => d.Metadata.Name).ToHashSet();
        var policies = deployment.Environment("dev").OfType<V1NetworkPolicy>().ToList();
        Assert.Contains(policies, p => p.Metadata.Name == "default-deny-ingress" && p.Spec.PodSelector.MatchLabels is null && p.Spec.PolicyTypes.SequenceEqual(["Ingress"]));
        foreach (var (target, clients) in expected)
        {
            var policy = policies.Single(p => p.Metadata.Name == target);
            var admitted = policy.Spec.Ingress.SelectMany(r => r.FromProperty ?? []).Select(f => f.PodSelector.MatchLabels["app.kubernetes.io/name"])
                .Where(name => name != target).ToHashSet();
            Assert.True(clients.SetEquals(admitted), $"{target}: the model references it from {string.Join(", ", clients)}; the policy admits {string.Join(", ", admitted)}");
            // From anywhere (the ingress controller): the public gateway and nothing else.
            var open = policy.Spec.Ingress.Any(r => r.FromProperty is null);
            Assert.Equal((bool?)resources[target]!["bindings"]?["http"]?["external"] == true, open);
            // Its own nodes only for a cluster.
            Assert.Equal(target == "messaging", policy.Spec.Ingress.Any(r => r.FromProperty?.Any(f => f.PodSelector.MatchLabels["app.kubernetes.io/name"] == target) == true));
            Assert.Equal(developmentOnly.Contains(target), deployment.Overlays["dev"].Contains(policy));
        }

        // Only the ports referenced: each backing server's own port, each service's HTTP port.
        Assert.All(policies.Where(p => p.Metadata.Name == "postgres").SelectMany(p => p.Spec.Ingress).SelectMany(r => r.Ports), p => Assert.Equal("5432", p.Port.Value));
        Assert.All(policies.Where(p => p.Metadata.Name == "api").SelectMany(p => p.Spec.Ingress).SelectMany(r => r.Ports), p => Assert.Equal("8080", p.Port.Value));
    }

    private static IEnumerable<string> References(JsonObject resources, string? text, HashSet<string> seen)
    {
        foreach (Match reference in ManifestReference().Matches(text ?? ""))
        {
            var name = reference.Groups[1].Value;
            if (!seen.Add(name + reference.Groups[2].Value) || resources[name] is not JsonObject resource)
            {
                continue;
            }

            if ((string)resource["type"]! is "container.v0" or "project.v0")
            {
                yield return name;
            }
            else
            {
                foreach (var inner in References(resources, resource.ToJsonString(), seen))
                {
                    yield return inner;
                }
            }
        }
    }

    [Fact]
    public void Workloads_run_as_non_root_on_read_only_file_systems_with_limits_probes_and_the_models_shape()
    {
        var objects = deployment.Environment("dev");
        foreach (var template in PublishedDeployment.PodTemplates(objects))
        {
            Assert.True(template.Spec.SecurityContext.RunAsNonRoot);
            Assert.False(template.Spec.AutomountServiceAccountToken);
            foreach (var container in template.Spec.Containers)
            {
                Assert.True(container.SecurityContext.ReadOnlyRootFilesystem, container.Name);
                Assert.True(container.SecurityContext.RunAsNonRoot, container.Name);
                Assert.NotEqual(0, container.SecurityContext.RunAsUser);
                Assert.False(container.SecurityContext.AllowPrivilegeEscalation, container.Name);
                Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
                Assert.True(container.Resources.Requests.ContainsKey("cpu") && container.Resources.Requests.ContainsKey("memory"), container.Name);
                Assert.True(container.Resources.Limits.ContainsKey("cpu") && container.Resources.Limits.ContainsKey("memory"), container.Name);
            }
        }

        foreach (var service in objects.OfType<V1Deployment>())
        {
            var container = service.Spec.Template.Spec.Containers.Single();
            Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
            Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        }

        foreach (var server in objects.OfType<V1StatefulSet>())
        {
            Assert.NotNull(server.Spec.Template.Spec.Containers.Single().ReadinessProbe.Exec);
            Assert.NotEmpty(server.Spec.VolumeClaimTemplates);
        }

        var deployments = objects.OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        Assert.Equal(2, deployments["api-blue"].Spec.Replicas);
        Assert.Equal(0, deployments["api-green"].Spec.Replicas);
        Assert.Equal(1, deployments["worker-blue"].Spec.Replicas);
        Assert.Equal(0, deployments["worker-green"].Spec.Replicas);
        Assert.Equal(2, deployments["web"].Spec.Replicas);
        Assert.Equal("blue", objects.OfType<V1Service>().Single(s => s.Metadata.Name == "api").Spec.Selector["ticketsale/colour"]);
        Assert.Equal("api-blue", objects.OfType<V2HorizontalPodAutoscaler>().Single(h => h.Metadata.Name == "api").Spec.ScaleTargetRef.Name);
        Assert.Contains(objects.OfType<V1PodDisruptionBudget>(), p => p.Metadata.Name == "api");
        Assert.Equal(3, objects.OfType<V1StatefulSet>().Single(s => s.Metadata.Name == "messaging").Spec.Replicas);
        Assert.Equal(["cache", "messaging", "postgres"], objects.OfType<V1StatefulSet>().Select(s => s.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.Equal("OnFailure", objects.OfType<V1Job>().Single(j => j.Metadata.Name == "migrations").Spec.Template.Spec.RestartPolicy);
        // The payment simulator runs in development only; elsewhere its address is a setting the operator gives.
        Assert.Contains(deployment.Overlays["dev"].OfType<V1Deployment>(), d => d.Metadata.Name == "payments");
        Assert.DoesNotContain(deployment.Base.Concat(deployment.Overlays["staging"]).Concat(deployment.Overlays["production"]).OfType<V1Deployment>(), d => d.Metadata.Name == "payments");
        Assert.Contains("payments-url=http://payments:8080", deployment.Files["kubernetes/overlays/dev/kustomization.yaml"], StringComparison.Ordinal);
        Assert.Contains("payments-url=\n", deployment.Files["kubernetes/overlays/production/kustomization.yaml"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_compose_file_names_only_images_and_variables_the_repository_and_the_model_define()
    {
        var compose = deployment.Yaml("compose/compose.yaml");
        var services = (YamlMappingNode)compose["services"];
        var containerImages = manifest.Resources.Where(r => (string)r.Value!["type"]! == "container.v0").Select(r => (string)r.Value!["image"]!).ToHashSet();
        var projects = manifest.Resources.Where(r => (string)r.Value!["type"]! == "project.v0").Select(r => r.Key).ToHashSet();
        var parameters = manifest.Resources.Where(r => (string)r.Value!["type"]! == "parameter.v0").Select(r => r.Key.Replace('-', '_').ToUpperInvariant()).ToHashSet();
        Assert.Equal(containerImages.Count + projects.Count, services.Children.Count);
        foreach (var (nameNode, serviceNode) in services.Children)
        {
            var name = ((YamlScalarNode)nameNode).Value!;
            var service = (YamlMappingNode)serviceNode;
            var image = ((YamlScalarNode)service["image"]).Value!;
            if (projects.Contains(name))
            {
                Assert.Equal($"${{REGISTRY:-ghcr.io/ticketsale}}/ticketsale-{name}:${{TAG:-latest}}", image);
                var dockerfile = ((YamlScalarNode)((YamlMappingNode)service["build"])["dockerfile"]).Value!;
                Assert.True(File.Exists(Path.Combine(s_root, dockerfile)), dockerfile);
                Assert.Equal(Path.GetDirectoryName(ProjectPath(name)), Path.GetDirectoryName(Path.Combine(s_root, dockerfile)));
            }
            else
            {
                Assert.Contains(image, containerImages);
            }

            if (service.Children.TryGetValue(new YamlScalarNode("depends_on"), out var dependsOn))
            {
                Assert.All(((YamlMappingNode)dependsOn).Children.Keys, d => Assert.True(services.Children.ContainsKey(d), $"{name} depends on {d}"));
            }
        }

        // Development-only services are addressed by a variable of their own (the dev profile runs them).
        var allowed = new HashSet<string>(parameters) { "REGISTRY", "TAG", "PAYMENTS_URL", "MAIL_SMTP_URL" };
        foreach (Match variable in ComposeVariable().Matches(deployment.Files["compose/compose.yaml"].Replace("$$", "", StringComparison.Ordinal)))
        {
            Assert.Contains(variable.Groups[1].Value, allowed);
        }
    }

    [Fact]
    public void Each_service_has_a_multi_stage_dockerfile_that_runs_it_as_a_non_root_user()
    {
        var projects = manifest.Resources.Where(r => (string)r.Value!["type"]! == "project.v0").Select(r => r.Key).ToList();
        Assert.Equal(["api", "mail", "migrations", "payments", "web", "worker"], projects.Order());
        foreach (var project in projects)
        {
            var path = Path.Combine(Path.GetDirectoryName(ProjectPath(project))!, "Dockerfile");
            var lines = File.ReadAllLines(path).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
            var froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
            Assert.True(froms.Count >= 2, $"{path}: one stage");
            Assert.All(froms, f => Assert.Matches(@"^FROM (mcr\.microsoft\.com/dotnet/|docker\.io/library/)", f));
            Assert.Contains("chiseled", froms[^1], StringComparison.Ordinal);
            var final = lines.SkipWhile(l => l != froms[^1]).ToList();
            Assert.Contains("USER $APP_UID", final);
            Assert.Equal($"ENTRYPOINT [\"dotnet\", \"{Path.GetFileNameWithoutExtension(ProjectPath(project))}.dll\"]", final[^1]);
            foreach (var copy in lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from", StringComparison.Ordinal)))
            {
                foreach (var source in copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1])
                {
                    Assert.True(File.Exists(Path.Combine(s_root, source)) || Directory.Exists(Path.Combine(s_root, source)), $"{path}: {copy}");
                }
            }
        }
    }

    [Fact]
    public void The_pipeline_runs_the_readme_test_command_builds_every_image_and_releases_by_the_blue_green_switch()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(s_root, ".github/workflows/ci-cd.yml"))));
        var jobs = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["jobs"];
        string[] Needs(string job) => ((YamlMappingNode)jobs[job]).Children.TryGetValue(new YamlScalarNode("needs"), out var needs)
            ? needs is YamlSequenceNode list ? [.. list.Select(n => ((YamlScalarNode)n).Value!)] : [((YamlScalarNode)needs).Value!]
            : [];
        Assert.Equal(["test", "manifests"], Needs("images"));
        Assert.Equal(["images"], Needs("staging"));
        Assert.Equal(["staging"], Needs("production"));

        var runs = jobs.Children.SelectMany(j => (YamlSequenceNode)((YamlMappingNode)j.Value)["steps"])
            .Select(s => ((YamlMappingNode)s).Children.TryGetValue(new YamlScalarNode("run"), out var run) ? ((YamlScalarNode)run).Value! : null)
            .OfType<string>().ToList();
        // The README's test command, as .ci/run runs it.
        Assert.Contains("./test.sh    #", File.ReadAllText(Path.Combine(s_root, "README.md")), StringComparison.Ordinal);
        Assert.Contains("./test.sh", ((YamlSequenceNode)((YamlMappingNode)jobs["test"])["steps"]).Select(s => ((YamlMappingNode)s).Children.TryGetValue(new YamlScalarNode("run"), out var run) ? ((YamlScalarNode)run).Value : null));
        foreach (Match script in Regex.Matches(string.Join('\n', runs), @"(?:^|\s)(\./[\w.-]+\.sh|deploy/scripts/[\w.-]+\.sh)"))
        {
            var file = Path.Combine(s_root, script.Groups[1].Value);
            Assert.True(File.Exists(file) && File.GetUnixFileMode(file).HasFlag(UnixFileMode.UserExecute), script.Groups[1].Value);
        }

        Assert.Contains(runs, r => r.Contains("deploy/scripts/deploy.sh production", StringComparison.Ordinal));
        Assert.Contains(runs, r => r.Contains("--step publish-deployment", StringComparison.Ordinal));

        var images = ((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)jobs["images"])["strategy"])["matrix"])["include"])
            .Cast<YamlMappingNode>().ToDictionary(m => ((YamlScalarNode)m["image"]).Value!, m => ((YamlScalarNode)m["dockerfile"]).Value!);
        var projects = manifest.Resources.Where(r => (string)r.Value!["type"]! == "project.v0").Select(r => r.Key).ToList();
        Assert.Equal(projects.Select(p => $"ticketsale-{p}").Order(StringComparer.Ordinal), images.Keys.Order(StringComparer.Ordinal));
        foreach (var project in projects)
        {
            Assert.Equal(Path.Combine(Path.GetDirectoryName(ProjectPath(project))!, "Dockerfile"), Path.Combine(s_root, images[$"ticketsale-{project}"]));
        }

        var uses = Regex.Matches(File.ReadAllText(Path.Combine(s_root, ".github/workflows/ci-cd.yml")), @"uses: ([\w-]+)/").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Subset(new HashSet<string> { "actions", "docker", "azure" }, uses);
    }

    [Fact]
    public async Task The_release_scripts_parse_and_name_the_workloads_services_and_autoscaler_the_manifests_define()
    {
        foreach (var script in Directory.EnumerateFiles(Path.Combine(s_root, "deploy", "scripts"), "*.sh"))
        {
            using var bash = Process.Start(new ProcessStartInfo("bash", ["-n", script]) { RedirectStandardError = true })!;
            var error = await bash.StandardError.ReadToEndAsync();
            await bash.WaitForExitAsync();
            Assert.True(bash.ExitCode == 0, $"{script}: {error}");
        }

        var blueGreen = await File.ReadAllTextAsync(Path.Combine(s_root, "deploy", "scripts", "blue-green.sh"));
        string Setting(string name) => Regex.Match(blueGreen, $"^{name}=\"?([^\"\\n]*)\"?$", RegexOptions.Multiline).Groups[1].Value;
        var objects = deployment.Base;
        var label = Setting("colour_label");
        Assert.Equal("ticketsale/colour", label);
        foreach (var workload in Setting("released").Split(' '))
        {
            foreach (var colour in new[] { "blue", "green" })
            {
                var colourDeployment = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == $"{workload}-{colour}");
                Assert.Equal(colour, colourDeployment.Spec.Template.Metadata.Labels[label]);
                Assert.Contains(colourDeployment.Spec.Template.Spec.Containers, c => c.Name == workload && c.Image == $"ticketsale-{workload}");
            }

            Assert.Contains(label, objects.OfType<V1Service>().Single(s => s.Metadata.Name == workload).Spec.Selector.Keys);
        }

        Assert.Contains(objects.OfType<V1Service>(), s => s.Metadata.Name == "api-green" && s.Spec.Ports.Any(p => p.Name == "http"));
        foreach (var autoscaled in Setting("autoscaled").Split(' '))
        {
            Assert.Contains(objects.OfType<V2HorizontalPodAutoscaler>(), h => h.Metadata.Name == autoscaled);
        }
    }

    // The manifest gives each project's path relative to its own folder.
    private string ProjectPath(string project) => Path.GetFullPath(Path.Combine(manifest.Folder, (string)manifest.Resources[project]!["path"]!));

    [GeneratedRegex(@"\{([a-z0-9-]+)\.(bindings\.[a-z]+|connectionString|value)")]
    private static partial Regex ManifestReference();

    [GeneratedRegex(@"\$\{([A-Z0-9_]+)")]
    private static partial Regex ComposeVariable();
}
