using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.DependencyInjection;

namespace TicketSale.AppHost.Publishing;

/// <summary>
/// The pipeline step that writes the deployment files from the model:
/// <c>dotnet run --project TicketSale.AppHost -- --operation publish --step publish-deployment</c> writes
/// <c>deploy/kubernetes</c> (a kustomize base and an overlay per environment) and <c>deploy/compose</c>.
/// </summary>
internal static class DeploymentPublishing
{
    public const string StepName = "publish-deployment";

    /// <summary>The folders the step owns under the output path: regenerated whole, bar an operator's secrets.env.</summary>
    public static readonly string[] GeneratedFolders = ["kubernetes", "compose"];

    public static void AddDeploymentPublishing(this IDistributedApplicationBuilder builder)
    {
#pragma warning disable ASPIREPIPELINES001, ASPIREPIPELINES004 // Aspire's pipeline steps are in preview.
        builder.Pipeline.AddStep(StepName, async context =>
        {
            // The repository's deploy/ unless --output-path says otherwise (relative to the AppHost's folder).
            var output = builder.Configuration["Pipeline:OutputPath"] is null
                ? Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "deploy"))
                : context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
            var files = await WriteAsync(context.Model, context.ExecutionContext, context.CancellationToken).ConfigureAwait(false);
            foreach (var folder in GeneratedFolders.Select(f => Path.Combine(output, f)).Where(Directory.Exists))
            {
                foreach (var stale in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "secrets.env"))
                {
                    File.Delete(stale);
                }
            }

            foreach (var (path, text) in files)
            {
                var file = Path.Combine(output, path);
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                await File.WriteAllTextAsync(file, text, context.CancellationToken).ConfigureAwait(false);
            }

            context.Logger.LogDeploymentWritten(files.Count, output);
        }, requiredBy: WellKnownPipelineSteps.Publish);
#pragma warning restore ASPIREPIPELINES001, ASPIREPIPELINES004
    }

    /// <summary>Every generated file by its path under the output folder.</summary>
    public static async Task<SortedDictionary<string, string>> WriteAsync(DistributedApplicationModel model, DistributedApplicationExecutionContext executionContext,
        CancellationToken cancellationToken)
    {
        var files = KubernetesManifests.Write(await Workload.ReadAsync(model, executionContext, KubernetesManifests.Target, cancellationToken).ConfigureAwait(false));
        files["compose/compose.yaml"] = ComposeFile.Write(await Workload.ReadAsync(model, executionContext, ComposeFile.Target, cancellationToken).ConfigureAwait(false));
        return files;
    }
}

internal static partial class DeploymentPublishingLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "Wrote {Count} deployment files under {Output}")]
    public static partial void LogDeploymentWritten(this Microsoft.Extensions.Logging.ILogger logger, int count, string output);
}
