using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.Hosting;

internal static class ConnectionStrings
{
    /// <summary>Reads <c>ConnectionStrings:{name}</c>, failing at start-up with a message that says what is missing.</summary>
    public static string Require(IConfiguration configuration, string name) =>
        configuration.GetConnectionString(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"Connection string '{name}' is missing. Set ConnectionStrings__{name} (the AppHost injects it).");
}
