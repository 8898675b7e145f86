using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace TicketSale.Core.Inventory;

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
