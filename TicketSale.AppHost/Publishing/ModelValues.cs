using System.Globalization;

namespace TicketSale.AppHost.Publishing;

/// <summary>
/// Reads a resource's environment and arguments from the Aspire model as a deployment sees them, and writes each value
/// for a deployment target: a reference to another resource becomes its service name and port, a secret parameter a
/// reference the target resolves at deploy time (never its value), a development-only resource an address the
/// operator gives. What each value used is collected, so that secrets, configuration and network paths follow.
/// </summary>
internal sealed class ModelValues(DistributedApplicationExecutionContext executionContext, ModelValues.Target target)
{
    /// <summary>The port every .NET service's container listens on (the official images' default).</summary>
    public const int ServicePort = 8080;

    /// <summary>How a target writes what only the deployment knows.</summary>
    /// <param name="Literal">Escapes the model's own text where the target would expand it.</param>
    public sealed record Target(Func<ParameterResource, string> Parameter, Func<DevelopmentOnlyEndpoint, string> DevelopmentOnlyUrl, Func<string, string> Literal);

    /// <summary>
    /// The configuration key of a development-only endpoint's address: <c>payments-url</c> for a service's HTTP endpoint,
    /// <c>mail-smtp-url</c> for another.
    /// </summary>
    public static string DevelopmentOnlyUrlKey(DevelopmentOnlyEndpoint endpoint) =>
        endpoint.Endpoint.Name == "http" ? $"{endpoint.Resource.Name}-url" : $"{endpoint.Resource.Name}-{endpoint.Endpoint.Name}-url";

    /// <summary>A development-only endpoint's address in the deployment's development environment.</summary>
    public static string DevelopmentOnlyDefaultUrl(DevelopmentOnlyEndpoint endpoint) =>
        $"{endpoint.Endpoint.UriScheme}://{endpoint.Resource.Name}:{ContainerPort(endpoint.Endpoint)}";

    /// <summary>An endpoint of a resource that is deployed in development only.</summary>
    public sealed record DevelopmentOnlyEndpoint(IResource Resource, EndpointAnnotation Endpoint);

    /// <summary>What the values of one resource used.</summary>
    /// <param name="owner">The resource whose values these are: its own endpoints are its ports, even when it is development-only.</param>
    public sealed class Uses(IResource owner)
    {
        public IResource Owner { get; } = owner;

        public HashSet<ParameterResource> Parameters { get; } = [];

        /// <summary>The development-only endpoints reached, whose addresses the operator gives.</summary>
        public HashSet<DevelopmentOnlyEndpoint> DevelopmentOnly { get; } = [];

        /// <summary>The resources reached over the network, with the ports reached.</summary>
        public Dictionary<IResource, SortedSet<int>> Endpoints { get; } = [];
    }

    public async Task<Dictionary<string, object>> EnvironmentAsync(IResource resource, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, object>(StringComparer.Ordinal);
        if (resource.TryGetEnvironmentVariables(out var callbacks))
        {
            var context = new EnvironmentCallbackContext(executionContext, resource, environment, cancellationToken);
            foreach (var callback in callbacks)
            {
                await callback.Callback(context).ConfigureAwait(false);
            }
        }

        return environment;
    }

    public async Task<List<object>> ArgumentsAsync(IResource resource, CancellationToken cancellationToken)
    {
        var arguments = new List<object>();
        if (resource.TryGetAnnotationsOfType<CommandLineArgsCallbackAnnotation>(out var callbacks))
        {
            var context = new CommandLineArgsCallbackContext(arguments, resource, cancellationToken) { ExecutionContext = executionContext };
            foreach (var callback in callbacks)
            {
                await callback.Callback(context).ConfigureAwait(false);
            }
        }

        return arguments;
    }

    /// <summary>The port a resource's endpoint listens on inside its container.</summary>
    public static int ContainerPort(EndpointAnnotation endpoint) => endpoint.TargetPort ?? ServicePort;

    public string Render(object value, Uses uses) => value switch
    {
        string text => target.Literal(text),
        ParameterResource parameter => Parameter(parameter, uses),
        ConnectionStringReference reference => Render(reference.Resource.ConnectionStringExpression, uses),
        IResourceWithConnectionString resource => Render(resource.ConnectionStringExpression, uses),
        EndpointReference endpoint => Endpoint(endpoint, EndpointProperty.Url, uses),
        EndpointReferenceExpression expression => Endpoint(expression.Endpoint, expression.Property, uses),
        ReferenceExpression { IsConditional: true } conditional => Render(Condition(conditional.Condition!) == conditional.MatchValue ? conditional.WhenTrue! : conditional.WhenFalse!, uses),
        // An address written from the parts of a development-only endpoint is that endpoint's address.
        ReferenceExpression { ValueProviders: [EndpointReferenceExpression first, ..] } address
            when first.Endpoint.Resource.HasAnnotationOfType<DevelopmentOnlyAnnotation>() && first.Endpoint.Resource != uses.Owner
                && address.ValueProviders.All(p => p is EndpointReferenceExpression e && e.Endpoint.Resource == first.Endpoint.Resource) =>
            Endpoint(first.Endpoint, EndpointProperty.Url, uses),
        ReferenceExpression expression => string.Format(CultureInfo.InvariantCulture, target.Literal(expression.Format),
            expression.ValueProviders.Select(provider => (object)Render(provider, uses)).ToArray()),
        // A filter of one parameter (Aspire's URI-encoded password): the deployment's passwords are URI-safe.
        IValueWithReferences filtered when filtered.References.OfType<ParameterResource>().ToList() is [var parameter] => Parameter(parameter, uses),
        int or long or bool => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        _ => throw new NotSupportedException($"A {value.GetType().Name} cannot be written into a deployment."),
    };

    private string Parameter(ParameterResource parameter, Uses uses)
    {
        uses.Parameters.Add(parameter);
        return target.Parameter(parameter);
    }

    // TLS ends at the ingress: inside the cluster every endpoint is plain.
    private static string Condition(IValueProvider condition) => condition switch
    {
        EndpointReferenceExpression { Property: EndpointProperty.TlsEnabled } => bool.FalseString,
        _ => throw new NotSupportedException($"A condition on {condition.GetType().Name} cannot be decided at publishing."),
    };

    private string Endpoint(EndpointReference endpoint, EndpointProperty property, Uses uses)
    {
        var resource = endpoint.Resource;
        var annotation = endpoint.EndpointAnnotation;
        var port = ContainerPort(annotation);
        if (property != EndpointProperty.Scheme && property != EndpointProperty.TlsEnabled)
        {
            (uses.Endpoints.TryGetValue(resource, out var ports) ? ports : uses.Endpoints[resource] = []).Add(port);
        }

        if (resource.HasAnnotationOfType<DevelopmentOnlyAnnotation>() && resource != uses.Owner)
        {
            var developmentOnly = new DevelopmentOnlyEndpoint(resource, annotation);
            uses.DevelopmentOnly.Add(developmentOnly);
            return property == EndpointProperty.Url ? target.DevelopmentOnlyUrl(developmentOnly)
                : throw new NotSupportedException($"Only the address of {resource.Name}, which is deployed in development only, can be referenced.");
        }

        return property switch
        {
            EndpointProperty.Url => $"{annotation.UriScheme}://{resource.Name}:{port}",
            EndpointProperty.Host or EndpointProperty.IPV4Host => resource.Name,
            EndpointProperty.Port or EndpointProperty.TargetPort => port.ToString(CultureInfo.InvariantCulture),
            EndpointProperty.HostAndPort => $"{resource.Name}:{port}",
            EndpointProperty.Scheme => annotation.UriScheme,
            EndpointProperty.TlsEnabled => bool.FalseString,
            _ => throw new NotSupportedException($"Endpoint property {property}."),
        };
    }
}
