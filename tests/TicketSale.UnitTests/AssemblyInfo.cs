// The AppHost it tests runs only on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
