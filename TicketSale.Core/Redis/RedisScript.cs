using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace TicketSale.Core.Redis;

/// <summary>
/// A Lua script run by its SHA1 (EVALSHA), and sent whole only when Redis does not know it yet (after a restart).
/// StackExchange.Redis's string overload looks the script up in a table keyed by its text, which hashes the whole
/// script on every call: measurable on the hold path, which runs one per request.
/// </summary>
public sealed class RedisScript(string text)
{
#pragma warning disable CA5350 // SHA1 is how Redis names scripts (EVALSHA), not a security measure.
    private readonly byte[] _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350

    public string Text { get; } = text;

    /// <summary>
    /// A script made of the embedded scripts named, in order, after prelude.lua (the key prefix and the clock): the
    /// helpers first, the script's own body last, e.g. <c>Load("buckets", "inventory", "hold")</c>.
    /// </summary>
    public static RedisScript Load(params string[] parts) =>
        new(Embedded("prelude") + string.Concat(parts.Select(Embedded)));

    private static string Embedded(string name)
    {
        using var stream = typeof(RedisScript).Assembly.GetManifestResourceStream(name + ".lua")
            ?? throw new InvalidOperationException($"Missing embedded script {name}.lua");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd() + "\n";
    }

    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync db, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await db.ScriptEvaluateAsync(_sha1, keys, values);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // EVAL runs it and leaves it in Redis's script cache for the next EVALSHA.
            return await db.ScriptEvaluateAsync(Text, keys, values);
        }
    }
}
