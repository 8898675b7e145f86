using System.Reflection;

namespace TicketSale.AppHost.Hosting.Testing;

/// <summary>
/// The role of <c>Aspire.Hosting.Testing</c>: runs an AppHost's entry point to get its resource model, in a
/// temporary state folder with random ports, without starting anything. The caller starts and disposes the app.
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    /// <summary>An empty builder with the test defaults, for a test that declares a model of its own.</summary>
    public static DistributedApplicationBuilder CreateBuilder()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        TestingSession.ApplyDefaults(builder.Options);
        return builder;
    }

    public static DistributedApplication Create<TEntryPoint>(Action<DistributedApplicationBuilder>? configure = null)
    {
        var entryPoint = typeof(TEntryPoint).Assembly.EntryPoint
            ?? throw new InvalidOperationException($"{typeof(TEntryPoint).Assembly.GetName().Name} has no entry point.");
        var session = new TestingSession(configure);
        TestingSession.Current = session;
        try
        {
            entryPoint.Invoke(null, entryPoint.GetParameters().Length == 0 ? [] : [Array.Empty<string>()]);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
        }
        finally
        {
            TestingSession.Current = null;
        }

        return session.Application ?? throw new InvalidOperationException("The AppHost's entry point did not build an application.");
    }
}
