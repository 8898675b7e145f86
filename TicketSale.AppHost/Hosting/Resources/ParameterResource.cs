namespace TicketSale.AppHost.Hosting.Resources;

/// <summary>
/// A value the services need, like Aspire's parameters: taken from the AppHost's configuration
/// (<c>Parameters__{name}</c>), or for a secret, generated once and kept in the state folder.
/// </summary>
public sealed class ParameterResource(string name, bool secret) : Resource(name)
{
    public bool Secret { get; } = secret;

    internal string? Value { get; private set; }

    internal void Resolve(RunContext context) =>
        Value = Environment.GetEnvironmentVariable($"Parameters__{Name.Replace('-', '_')}") is { Length: > 0 } configured
            ? configured
            : Secret ? context.Secret(Name) : throw new InvalidOperationException($"Parameter '{Name}' needs a value: set Parameters__{Name.Replace('-', '_')}.");
}
