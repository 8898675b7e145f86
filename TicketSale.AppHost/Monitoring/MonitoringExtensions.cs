using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using TicketSale.AppHost.LocalServers;

namespace TicketSale.AppHost.Monitoring;

/// <summary>
/// Prometheus and Alertmanager as local processes from the machine's Debian packages: Prometheus scrapes every replica
/// of every service (<see cref="ScrapeTargets"/>) and evaluates <c>Monitoring/alerts.yml</c>; Alertmanager routes what
/// fires to a webhook (<c>TicketSale:Alerts:WebhookUrl</c>), or keeps it on its own page when none is set.
/// </summary>
public static class MonitoringExtensions
{
    /// <summary>How often Prometheus scrapes and evaluates the rules, and how long Alertmanager gathers a group before sending it.</summary>
    public sealed record Intervals(TimeSpan Scrape, TimeSpan GroupWait)
    {
        public static Intervals From(Microsoft.Extensions.Configuration.IConfiguration configuration) => new(
            TimeSpan.TryParse(configuration["TicketSale:Alerts:ScrapeInterval"], CultureInfo.InvariantCulture, out var scrape) ? scrape : TimeSpan.FromSeconds(5),
            TimeSpan.TryParse(configuration["TicketSale:Alerts:GroupWait"], CultureInfo.InvariantCulture, out var wait) ? wait : TimeSpan.FromSeconds(10));
    }

    /// <summary>Alertmanager, configured when it starts from <c>TicketSale:Alerts:WebhookUrl</c> and <c>:GroupWait</c>.</summary>
    public static IResourceBuilder<ExecutableResource> AddLocalAlertmanager(this IDistributedApplicationBuilder builder, string name, LocalServerContext local)
    {
        var folder = local.State.For(name);
        var port = FreePort.Next();
        var config = Path.Combine(folder, "alertmanager.yml");
        var alertmanager = builder.AddExecutable(name, local.Binaries.Find("prometheus-alertmanager", "prometheus-alertmanager"), folder,
                $"--config.file={config}", $"--storage.path={Path.Combine(folder, "data")}",
                $"--web.listen-address=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
                // One instance: no gossip port for a cluster of Alertmanagers.
                "--cluster.listen-address=", "--log.level=warn")
            .WithHttpEndpoint(port: port, targetPort: port, name: "http", isProxied: false)
            .WithHttpHealthCheck("/-/ready")
            .WithIconName("Alert");
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(alertmanager.Resource, (_, ct) =>
            File.WriteAllTextAsync(config, AlertmanagerConfig(builder.Configuration["TicketSale:Alerts:WebhookUrl"], Intervals.From(builder.Configuration)), ct));
        return alertmanager;
    }

    /// <summary>Prometheus, configured when it starts (<c>TicketSale:Alerts:ScrapeInterval</c>), sending to <paramref name="alertmanager"/>.</summary>
    public static IResourceBuilder<ExecutableResource> AddLocalPrometheus(this IDistributedApplicationBuilder builder, string name, LocalServerContext local,
        IResourceBuilder<ExecutableResource> alertmanager, IResourceBuilder<ParameterResource> managementKey)
    {
        var folder = local.State.For(name);
        var port = FreePort.Next();
        var config = Path.Combine(folder, "prometheus.yml");
        var files = new PrometheusFiles(
            Rules: Path.Combine(builder.AppHostDirectory, "Monitoring", "alerts.yml"),
            Targets: Path.Combine(folder, ScrapeTargets.FileName),
            Credentials: Path.Combine(folder, "management-key"));
        var prometheus = builder.AddExecutable(name, local.Binaries.Find("prometheus", "prometheus"), folder,
                $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "data")}", "--storage.tsdb.retention.time=2d",
                $"--web.listen-address=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--log.level=warn")
            .WithHttpEndpoint(port: port, targetPort: port, name: "http", isProxied: false)
            .WithHttpHealthCheck("/-/ready")
            .WaitFor(alertmanager)
            .WithIconName("ChartMultiple");
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(prometheus.Resource, async (_, ct) =>
        {
            StateFolder.WriteOwnerOnly(files.Credentials, await managementKey.Resource.GetValueAsync(ct).ConfigureAwait(false) ?? "");
            if (!File.Exists(files.Targets))
            {
                await File.WriteAllTextAsync(files.Targets, "[]", ct).ConfigureAwait(false);
            }

            await File.WriteAllTextAsync(config, PrometheusConfig(files, alertmanager.Resource.GetEndpoint("http").Port, Intervals.From(builder.Configuration)), ct).ConfigureAwait(false);
        });
        builder.Services.AddHostedService(sp => new ScrapeTargets(files.Targets, sp.GetRequiredService<ResourceNotificationService>()));
        return prometheus;
    }

    /// <summary>The rule file, the file of targets, and the file holding the key that metrics need (a Bearer token).</summary>
    public sealed record PrometheusFiles(string Rules, string Targets, string Credentials);

    public static string PrometheusConfig(PrometheusFiles files, int alertmanagerPort, Intervals intervals) => new StringBuilder()
        .AppendLine("global:")
        .AppendLine(CultureInfo.InvariantCulture, $"  scrape_interval: {Duration(intervals.Scrape)}")
        .AppendLine(CultureInfo.InvariantCulture, $"  evaluation_interval: {Duration(intervals.Scrape)}")
        .AppendLine("rule_files:")
        .AppendLine(CultureInfo.InvariantCulture, $"  - '{files.Rules}'")
        .AppendLine("alerting:")
        .AppendLine("  alertmanagers:")
        .AppendLine("    - static_configs:")
        .AppendLine(CultureInfo.InvariantCulture, $"        - targets: ['127.0.0.1:{alertmanagerPort}']")
        .AppendLine("scrape_configs:")
        .AppendLine("  - job_name: ticketsale")
        .AppendLine("    authorization:")
        .AppendLine("      type: Bearer")
        .AppendLine(CultureInfo.InvariantCulture, $"      credentials_file: '{files.Credentials}'")
        .AppendLine("    file_sd_configs:")
        .AppendLine(CultureInfo.InvariantCulture, $"      - files: ['{files.Targets}']")
        .AppendLine("        refresh_interval: 5s")
        .ToString();

    public static string AlertmanagerConfig(string? webhookUrl, Intervals intervals)
    {
        var config = new StringBuilder()
            .AppendLine("route:")
            .AppendLine("  receiver: operators")
            .AppendLine("  group_by: [alertname, service, check]")
            .AppendLine(CultureInfo.InvariantCulture, $"  group_wait: {Duration(intervals.GroupWait)}")
            .AppendLine("  group_interval: 1m")
            .AppendLine("  repeat_interval: 4h")
            .AppendLine("receivers:")
            .AppendLine("  - name: operators");
        if (!string.IsNullOrEmpty(webhookUrl))
        {
            config.AppendLine("    webhook_configs:")
                .AppendLine(CultureInfo.InvariantCulture, $"      - url: '{webhookUrl}'")
                .AppendLine("        send_resolved: true");
        }

        return config.ToString();
    }

    private static string Duration(TimeSpan span) => span.TotalSeconds >= 1 && span.TotalSeconds == Math.Floor(span.TotalSeconds)
        ? $"{(long)span.TotalSeconds}s"
        : $"{(long)span.TotalMilliseconds}ms";
}
