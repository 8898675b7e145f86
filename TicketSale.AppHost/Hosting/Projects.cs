using TicketSale.AppHost.Hosting;

// Aspire generates one type per project reference of the AppHost; these are the same, written out, because the
// Aspire.Hosting SDK that generates them cannot be restored here.
#pragma warning disable CA1707 // Names follow Aspire's generated Projects.* types.
namespace Projects
{
    public sealed class TicketSale_Api : IProjectMetadata
    {
        public string ProjectPath => Path.Combine(DistributedApplicationOptions.RepositoryRoot, "TicketSale.Api");
    }

    public sealed class TicketSale_Worker : IProjectMetadata
    {
        public string ProjectPath => Path.Combine(DistributedApplicationOptions.RepositoryRoot, "TicketSale.Worker");
    }

    public sealed class TicketSale_PaymentSimulator : IProjectMetadata
    {
        public string ProjectPath => Path.Combine(DistributedApplicationOptions.RepositoryRoot, "TicketSale.PaymentSimulator");
    }

    public sealed class TicketSale_Web : IProjectMetadata
    {
        public string ProjectPath => Path.Combine(DistributedApplicationOptions.RepositoryRoot, "TicketSale.Web");
    }
}
#pragma warning restore CA1707

namespace TicketSale.AppHost.Hosting
{
    public interface IProjectMetadata
    {
        string ProjectPath { get; }
    }
}
