using System.Reflection;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using TicketSale.AppHost.LocalServers;
using YamlDotNet.RepresentationModel;

namespace TicketSale.AppHost.Tests;

/// <summary>The AppHost's deployment files, published once into a folder of their own, read as typed objects.</summary>
public sealed partial class PublishedDeployment : IAsyncLifetime
{
    public static readonly string RepositoryRoot = typeof(PublishedDeployment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    public string Folder { get; } = Directory.CreateTempSubdirectory("ticketsale-deploy-").FullName;

    /// <summary>Every generated file by its path under the output folder.</summary>
    public SortedDictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>The Kubernetes objects of the base.</summary>
    public IReadOnlyList<IKubernetesObject> Base { get; private set; } = [];

    /// <summary>The Kubernetes objects an overlay adds to the base.</summary>
    public Dictionary<string, IReadOnlyList<IKubernetesObject>> Overlays { get; } = [];

    public static readonly string[] Environments = ["dev", "staging", "production"];

    public async Task InitializeAsync()
    {
        await Processes.PublishAsync(Folder, "--operation", "publish", "--step", "publish-deployment", "--output-path", Folder);

        foreach (var file in Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories))
        {
            Files[Path.GetRelativePath(Folder, file).Replace('\\', '/')] = await File.ReadAllTextAsync(file);
        }

        Base = Load("kubernetes/base");
        foreach (var environment in Environments)
        {
            Overlays[environment] = Load($"kubernetes/overlays/{environment}");
        }
    }

    /// <summary>Every object of a folder's manifests, read strictly: a field the typed model does not know fails.</summary>
    public List<IKubernetesObject> Load(string folder) =>
        [.. Files.Where(f => f.Key.StartsWith(folder + "/", StringComparison.Ordinal) && f.Key.EndsWith(".yaml", StringComparison.Ordinal)
                && !f.Key.EndsWith("/kustomization.yaml", StringComparison.Ordinal) && !f.Key[(folder.Length + 1)..].Contains('/', StringComparison.Ordinal))
            .SelectMany(f => KubernetesYaml.LoadAllFromString(f.Value, strict: true).Cast<IKubernetesObject>())];

    /// <summary>What one environment deploys: the base and its overlay's own objects.</summary>
    public IReadOnlyList<IKubernetesObject> Environment(string environment) => [.. Base, .. Overlays[environment]];

    /// <summary>A kustomization or the compose file, as YAML nodes.</summary>
    public YamlMappingNode Yaml(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(Files[path]));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    public static IEnumerable<V1PodTemplateSpec> PodTemplates(IEnumerable<IKubernetesObject> objects) => objects.Select(o => o switch
    {
        V1Deployment d => d.Spec.Template,
        V1StatefulSet s => s.Spec.Template,
        V1Job j => j.Spec.Template,
        _ => null,
    }).OfType<V1PodTemplateSpec>();

    public static bool Selects(IDictionary<string, string> selector, IDictionary<string, string>? labels) =>
        labels is not null && selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);

    [GeneratedRegex(@"\$\(([A-Z0-9_]+)\)")]
    public static partial Regex VariableReference();

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }
}
