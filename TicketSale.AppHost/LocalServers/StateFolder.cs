using System.Security.Cryptography;
using System.Text.Json;

namespace TicketSale.AppHost.LocalServers;

/// <summary>
/// Where the local servers keep their data between runs, as container volumes would (<c>.state/</c> beside the
/// solution unless <c>--state-dir</c> says otherwise; <c>--fresh</c> discards it first), and the development secrets
/// generated on first start: they stay with the data they protect (a PostgreSQL cluster keeps the password it was
/// initialised with) and never enter the repository.
/// </summary>
public sealed class StateFolder
{
    private readonly object _gate = new();
    private Dictionary<string, string>? _secrets;

    private StateFolder(string path) => Path = path;

    public string Path { get; }

    /// <summary>Takes <c>--state-dir PATH</c> and <c>--fresh</c> out of the arguments; the rest are Aspire's.</summary>
    public static (string? Path, bool Fresh) TakeArguments(ref string[] args)
    {
        string? path = null;
        var fresh = false;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--state-dir" when i + 1 < args.Length:
                    path = System.IO.Path.GetFullPath(args[++i]);
                    break;
                case "--fresh":
                    fresh = true;
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        args = [.. rest];
        return (path, fresh);
    }

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Opens the state folder, discarding what it held first when asked for a fresh start. It is its owner's alone
    /// (0700) from the moment it exists: data, logs and secrets inside are out of other users' reach whatever their
    /// own modes.
    /// </summary>
    public static StateFolder Open(string path, bool fresh)
    {
        path = System.IO.Path.GetFullPath(path);
        if (fresh)
        {
            Discard(path);
        }

        Directory.CreateDirectory(path, OwnerOnly);
        File.SetUnixFileMode(path, OwnerOnly);
        return new StateFolder(path);
    }

    /// <summary>Deletes a state folder and the service user's folder that goes with it.</summary>
    public static void Discard(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        foreach (var folder in new[] { path, ServiceUserFolderFor(path) })
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>
    /// Where a server that runs as another user (PostgreSQL as <c>postgres</c> when the AppHost runs as root) keeps its
    /// data: that user cannot enter the state folder. Keyed by the state folder, so each has its own.
    /// </summary>
    public string ServiceUserFolder => ServiceUserFolderFor(Path);

    public static string ServiceUserFolderFor(string path) =>
        System.IO.Path.Combine("/var/tmp", "ticketsale-" + Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(path)))[..12]);

    /// <summary>The folder of one resource's data, created on first use.</summary>
    public string For(string resource)
    {
        var path = System.IO.Path.Combine(Path, resource);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// Writes a file that holds a secret: readable by its owner only from the moment it exists (a file written first and
    /// restricted after would be readable by others in between), and replaced whole, so a reader never sees half of it.
    /// </summary>
    public static void WriteOwnerOnly(string path, string content)
    {
        var temporary = path + ".new";
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>A generated secret, stable across runs of this state folder.</summary>
    public string Secret(string key, Func<string>? generate = null)
    {
        lock (_gate)
        {
            var path = System.IO.Path.Combine(Path, "secrets.json");
            _secrets ??= File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [] : [];
            if (!_secrets.TryGetValue(key, out var value))
            {
                // Letters and digits only: the value goes into URIs and connection strings unescaped.
                value = generate?.Invoke() ?? RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 32);
                _secrets[key] = value;
                WriteOwnerOnly(path, JsonSerializer.Serialize(_secrets));
            }

            return value;
        }
    }
}
