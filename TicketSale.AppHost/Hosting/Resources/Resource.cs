namespace TicketSale.AppHost.Hosting.Resources;

/// <summary>A named part of the distributed application: a backing service, a database or a project.</summary>
public abstract class Resource(string name)
{
    public string Name { get; } = name;

    /// <summary>Resources that must be healthy before this one starts.</summary>
    internal List<Resource> WaitsFor { get; } = [];

    /// <summary>Resources whose connection information is injected into this one.</summary>
    internal List<Resource> References { get; } = [];

    /// <summary>Everything this resource needs running: it starts after them and stops before them.</summary>
    internal virtual IEnumerable<Resource> Dependencies => WaitsFor.Concat(References).Distinct();

    /// <summary>Internal resources (e.g. RabbitMQ's epmd) are started and stopped but not listed.</summary>
    internal virtual bool IsHidden => false;

    public override string ToString() => Name;
}

/// <summary>A resource that services reach through <c>ConnectionStrings__{Name}</c>.</summary>
public interface IResourceWithConnectionString
{
    string Name { get; }

    string GetConnectionString();
}

/// <summary>An executable that must be on the machine, and the Debian package that provides it.</summary>
public sealed record Prerequisite(string Executable, string Package);
