namespace TicketSale.AppHost;

/// <summary>
/// A service's own Redis ACL user: reads, writes, scripts, pub/sub and transactions on its keys and channels; never an
/// admin or dangerous command (FLUSHALL, CONFIG, KEYS, DEBUG, ACL, SHUTDOWN, MONITOR …) except INFO, which the client's
/// handshake and the memory check read, and TIME, which the rate-limit script reads. Emptying the script cache, which
/// every replica relies on, is out too.
/// </summary>
internal sealed record RedisServiceUser(string Name, ParameterResource Password, IReadOnlyList<string> KeyPatterns, IReadOnlyList<string> ChannelPatterns)
{
    /// <summary>The user's rules after its password, one word each, as an ACL file line or <c>--user</c> takes them.</summary>
    public IEnumerable<string> Rules =>
    [
        "resetkeys", .. KeyPatterns.Select(k => "~" + k), "resetchannels", .. ChannelPatterns.Select(c => "&" + c),
        "-@all", "+@read", "+@write", "+@keyspace", "+@scripting", "+@pubsub", "+@connection", "+@transaction",
        "-@dangerous", "-@admin", "-script|flush", "+info", "+time",
    ];
}
