using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace TicketSale.UnitTests;

public sealed class ServiceDefaultsTests
{
    [Theory]
    [InlineData("service.instance.id=api-1", "api-1")]
    [InlineData("deployment.environment=dev, service.instance.id = api-0 ,x=y", "api-0")]
    public void The_instance_id_comes_from_the_otel_resource_attributes(string attributes, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_RESOURCE_ATTRIBUTES"] = attributes }).Build();

        Assert.Equal(expected, ServiceInstance.FromConfiguration(configuration).Id);
    }

    [Fact]
    public void Without_attributes_the_instance_is_named_after_machine_and_process()
    {
        var id = ServiceInstance.FromConfiguration(new ConfigurationBuilder().Build()).Id;

        Assert.EndsWith("-" + Environment.ProcessId, id, StringComparison.Ordinal);
    }
}
