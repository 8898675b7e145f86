// The AppHost runs processes the Linux way (setsid, /proc); so does the bench's memory sampling.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
