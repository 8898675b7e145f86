// The orchestrator runs the machine's own Linux server binaries (Debian packages) and uses Linux process semantics.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
