using TicketSale.AppHost.Monitoring;
using YamlDotNet.RepresentationModel;

namespace TicketSale.AppHost.Tests;

/// <summary>
/// The alert rules as code: Prometheus's own tool checks them and runs their unit tests (Monitoring/alerts.test.yml),
/// every rule has tests, and the configuration the AppHost writes for Prometheus is one Prometheus accepts.
/// </summary>
public sealed class AlertRulesTests
{
    private static readonly string s_monitoring = Path.Combine(PublishedDeployment.RepositoryRoot, "TicketSale.AppHost", "Monitoring");

    [Fact]
    public async Task Every_rule_passes_its_promtool_unit_tests()
    {
        var (exitCode, output) = await PromtoolAsync("test", "rules", "alerts.test.yml");

        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_rule_file_is_valid_and_every_alert_has_a_test_that_expects_it_to_fire()
    {
        var (exitCode, output) = await PromtoolAsync("check", "rules", "alerts.yml");
        Assert.True(exitCode == 0, output);

        var alerts = Load("alerts.yml")["groups"].AllNodes.OfType<YamlMappingNode>()
            .Where(n => n.Children.ContainsKey("alert")).Select(n => n["alert"].ToString()).ToList();
        Assert.Equal(10, alerts.Count);
        var firing = Load("alerts.test.yml")["tests"].AllNodes.OfType<YamlMappingNode>()
            .Where(n => n.Children.ContainsKey("alertname") && n["exp_alerts"] is YamlSequenceNode { Children.Count: > 0 })
            .Select(n => n["alertname"].ToString()).ToHashSet();
        var quiet = Load("alerts.test.yml")["tests"].AllNodes.OfType<YamlMappingNode>()
            .Where(n => n.Children.ContainsKey("alertname") && n["exp_alerts"] is YamlSequenceNode { Children.Count: 0 })
            .Select(n => n["alertname"].ToString()).ToHashSet();
        Assert.Empty(alerts.Except(firing));
        Assert.Empty(alerts.Except(quiet));
    }

    [Fact]
    public async Task The_configuration_the_apphost_writes_is_one_prometheus_accepts()
    {
        var folder = Directory.CreateTempSubdirectory("ticketsale-prometheus-");
        try
        {
            var files = new MonitoringExtensions.PrometheusFiles(Path.Combine(s_monitoring, "alerts.yml"), Path.Combine(folder.FullName, "targets.json"),
                Path.Combine(folder.FullName, "key"));
            await File.WriteAllTextAsync(files.Targets, """[{"targets":["localhost:5001"],"labels":{"service":"api"}}]""");
            await File.WriteAllTextAsync(files.Credentials, "a-key");
            var config = Path.Combine(folder.FullName, "prometheus.yml");
            await File.WriteAllTextAsync(config, MonitoringExtensions.PrometheusConfig(files, 9093,
                new MonitoringExtensions.Intervals(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10))));

            var (exitCode, output) = await PromtoolAsync("check", "config", config);

            Assert.True(exitCode == 0, output);
            Assert.Contains("10 rules found", output, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:5555/alerts/", true)]
    [InlineData(null, false)]
    public void Alertmanager_sends_to_the_webhook_when_one_is_configured_and_keeps_alerts_on_its_page_otherwise(string? webhook, bool sends)
    {
        var config = new YamlStream();
        config.Load(new StringReader(MonitoringExtensions.AlertmanagerConfig(webhook, new(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(1500)))));
        var root = (YamlMappingNode)config.Documents[0].RootNode;

        Assert.Equal("1500ms", root["route"]["group_wait"].ToString());
        var receiver = (YamlMappingNode)((YamlSequenceNode)root["receivers"]).Children.Single();
        Assert.Equal(root["route"]["receiver"].ToString(), receiver["name"].ToString());
        Assert.Equal(sends, receiver.Children.ContainsKey("webhook_configs"));
        if (sends)
        {
            Assert.Equal(webhook, ((YamlSequenceNode)receiver["webhook_configs"]).Children.Single()["url"].ToString());
        }
    }

    private static YamlMappingNode Load(string file)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(s_monitoring, file))));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static Task<(int ExitCode, string Output)> PromtoolAsync(params string[] arguments) =>
        Processes.RunAsync(File.Exists("/usr/bin/promtool") ? "/usr/bin/promtool" : "promtool", arguments, s_monitoring);
}
