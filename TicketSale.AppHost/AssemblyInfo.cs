// The local servers are Debian's packages; the AppHost runs them on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("TicketSale.Testing")]
