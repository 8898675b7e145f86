using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Which replica this process is: the OpenTelemetry <c>service.instance.id</c> the orchestrator assigns, so logs,
/// traces and the <c>X-Served-By</c> header all name the same thing.
/// </summary>
public sealed record ServiceInstance(string Id)
{
    public static ServiceInstance FromConfiguration(IConfiguration configuration)
    {
        foreach (var pair in (configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts is ["service.instance.id", { Length: > 0 } id])
            {
                return new ServiceInstance(id);
            }
        }

        return new ServiceInstance($"{Environment.MachineName}-{Environment.ProcessId}");
    }
}
