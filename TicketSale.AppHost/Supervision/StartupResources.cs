namespace TicketSale.AppHost.Supervision;

/// <summary>
/// The resources that start with the application, and when each is ready: a resource that others wait to complete
/// (the migration service) once it has finished, every other one once it is healthy.
/// </summary>
internal static class StartupResources
{
    public static Task WaitUntilReadyAsync(DistributedApplicationModel model, ResourceNotificationService notifications, CancellationToken cancellationToken)
    {
        var completing = RunToCompletion(model);
        return Task.WhenAll(model.Resources.Where(r => r is not ParameterResource && !r.HasAnnotationOfType<ExplicitStartupAnnotation>())
            .Select(r => completing.Contains(r)
                ? notifications.WaitForResourceAsync(r.Name, KnownResourceStates.Finished, cancellationToken)
                : notifications.WaitForResourceHealthyAsync(r.Name, cancellationToken)));
    }

    /// <summary>The resources some other resource waits for with <c>WaitForCompletion</c>: they run once and exit.</summary>
    public static IReadOnlySet<IResource> RunToCompletion(DistributedApplicationModel model) =>
        model.Resources.SelectMany(r => r.Annotations.OfType<WaitAnnotation>())
            .Where(w => w.WaitType == WaitType.WaitForCompletion)
            .Select(w => w.Resource)
            .ToHashSet();
}
