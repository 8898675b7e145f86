using System.Globalization;
using StackExchange.Redis;
using TicketSale.Core.RateLimiting;
using TicketSale.Core.Redis;

namespace TicketSale.Core.WaitingRoom;

/// <summary>
/// A campaign's virtual waiting room in Redis, shared by every Api replica: one place per visitor, a pre-queue
/// placed at opening in the random order of keys drawn as each visitor joined, and admission at a set rate
/// (optionally capped by the stock left).
/// </summary>
public sealed class WaitingRooms(IConnectionMultiplexer redis)
{
    private static readonly RedisScript s_script = RedisScript.Load("buckets", "waitingroom");

    /// <summary>Campaigns whose waiting room the Worker's pump opens and advances.</summary>
    public const string ActiveKey = "ts:wr:active";

    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// Takes a place (or keeps the one the visitor has) and answers with their state, after the rate limit of
    /// <paramref name="buckets"/> (keys in the campaign's hash slot): one script call. No state when the limit refuses.
    /// Before the opening the place is in the pre-queue, at <paramref name="drawKey"/> (<see cref="PreQueueDraws"/>).
    /// </summary>
    public Task<WaitingRoomReply> JoinAsync(Guid campaignId, Guid visitor, long drawKey, IReadOnlyList<TokenBucket> buckets) =>
        RunLimitedAsync(campaignId, "join", visitor, drawKey, buckets);

    /// <summary>The visitor's state, after the rate limit of <paramref name="buckets"/>: one script call.</summary>
    public Task<WaitingRoomReply> StatusAsync(Guid campaignId, Guid visitor, IReadOnlyList<TokenBucket> buckets) =>
        RunLimitedAsync(campaignId, "status", visitor, 0, buckets);

    public async Task<VisitorStatus> JoinAsync(Guid campaignId, Guid visitor, long drawKey) => (await JoinAsync(campaignId, visitor, drawKey, [])).Visitor!;

    public async Task<VisitorStatus> StatusAsync(Guid campaignId, Guid visitor) => (await StatusAsync(campaignId, visitor, [])).Visitor!;

    private async Task<WaitingRoomReply> RunLimitedAsync(Guid campaignId, string op, Guid visitor, long drawKey, IReadOnlyList<TokenBucket> buckets)
    {
        var reply = await RunAsync(campaignId, new RedisValue[] { op, visitor.ToString("N"), drawKey }.Concat(TokenBuckets.Arguments(buckets)));
        var rate = TokenBuckets.Decision(reply);
        return new WaitingRoomReply(rate.Allowed ? Read(reply[4..]) : null, rate);
    }

    private static VisitorStatus Read(RedisResult[] reply) =>
        (string)reply[0]! switch
        {
            "pre" => new VisitorStatus(VisitorState.PreQueue)
            {
                PreQueueSize = (long)reply[1],
                Position = (long)reply[2],
                RatePerSecond = double.Parse((string)reply[3]!, CultureInfo.InvariantCulture),
            },
            "waiting" => new VisitorStatus(VisitorState.Waiting)
            {
                Place = (long)reply[1],
                Position = (long)reply[1] - (long)reply[2],
                RatePerSecond = double.Parse((string)reply[3]!, CultureInfo.InvariantCulture),
                PausedByStock = (string)reply[4]! == "1",
            },
            "admitted" => new VisitorStatus(VisitorState.Admitted)
            {
                Place = (long)reply[1],
                AdmittedUntil = DateTimeOffset.FromUnixTimeMilliseconds((long)double.Parse((string)reply[2]!, CultureInfo.InvariantCulture)),
            },
            "expired" => new VisitorStatus(VisitorState.Expired),
            "soldout" => new VisitorStatus(VisitorState.SoldOut),
            _ => new VisitorStatus(VisitorState.Absent),
        };

    /// <summary>
    /// The visitor is done: no longer counted as shopping by stock pacing, and a place not yet reached is given up
    /// (joining again queues at the back).
    /// </summary>
    public Task LeaveAsync(Guid campaignId, Guid visitor) => RunAsync(campaignId, "leave", visitor.ToString("N"));

    /// <summary>The visitor's page went away: no longer counted as shopping, their place and admission kept.</summary>
    public Task AwayAsync(Guid campaignId, Guid visitor) => RunAsync(campaignId, "away", visitor.ToString("N"));

    /// <summary>
    /// How many visitors each command places (or draws keys for) at the opening: about 1.5 ms of Redis each
    /// (50,000 in one script took 145-182 ms, during which Redis answered nobody else).
    /// </summary>
    public const int VisitorsPerCommand = 500;

    /// <summary>
    /// Places the pre-queue in the order of its visitors' draw keys, a part at a time, and puts it ahead of everyone
    /// who arrives from now on. Visitors of a pre-queue taken before the keys get theirs first. Returns the number of
    /// places given, or null if already open.
    /// </summary>
    public async Task<long?> OpenAsync(Guid campaignId)
    {
        if (!await DrawKeysForOlderPreQueueAsync(campaignId))
        {
            return null;
        }

        while (true)
        {
            var placed = await RunAsync(campaignId, "place", VisitorsPerCommand);
            if ((string)placed[0]! == "already")
            {
                return null;
            }

            if ((long)placed[2] == 0)
            {
                break;
            }
        }

        var reply = await RunAsync(campaignId, "open");
        return (string)reply[0]! == "opened" ? long.Parse((string)reply[1]!, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>
    /// A pre-queue taken before the draw keys holds arrival numbers (below <see cref="PreQueueDraws.Smallest"/>):
    /// those visitors get random keys now, so that they are placed at random among the rest (drawn once, here, and
    /// placed at once: nobody can draw again). False if already open.
    /// </summary>
    private async Task<bool> DrawKeysForOlderPreQueueAsync(Guid campaignId)
    {
        // Converts the oldest form (a set) first.
        if ((string)(await RunAsync(campaignId, "rekey"))[0]! == "already")
        {
            return false;
        }

        var older = await Db.SortedSetRangeByScoreAsync(Prefix(campaignId) + ":wr:pre", double.NegativeInfinity, PreQueueDraws.Smallest, Exclude.Stop);
        foreach (var part in older.Chunk(VisitorsPerCommand))
        {
            var arguments = new List<RedisValue>(1 + (2 * part.Length)) { "rekey" };
            foreach (var visitor in part)
            {
                arguments.Add(visitor);
                arguments.Add(PreQueueDraws.RandomKey());
            }

            if ((string)(await RunAsync(campaignId, arguments))[0]! == "already")
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Advances admission by the time passed; returns the number of places admitted so far.</summary>
    public async Task<long> TickAsync(Guid campaignId) =>
        long.Parse((string)(await RunAsync(campaignId, "tick"))[1]!, CultureInfo.InvariantCulture);

    public async Task ConfigureAsync(Guid campaignId, WaitingRoomSettings settings)
    {
        await RunAsync(campaignId, "configure", settings.OnSale ? "1" : "0", settings.RatePerSecond.ToString(CultureInfo.InvariantCulture),
            settings.PaceByStock ? "1" : "0", settings.VisitorsPerTicket.ToString(CultureInfo.InvariantCulture),
            (long)settings.AdmissionLifetime.TotalMilliseconds, settings.Seats, string.Join(',', settings.GeneralAdmission.Select(g => g.ToString("N"))),
            settings.OpensAt.ToUnixTimeMilliseconds(), (long)settings.ShoppingWindow.TotalMilliseconds);
        await Db.SetAddAsync(ActiveKey, campaignId.ToString("N"));
    }

    /// <summary>The line as the organizer's dashboard shows it: waiting, admitted so far, drawn before the opening, and the rate.</summary>
    public async Task<WaitingRoomFigures> GetFiguresAsync(Guid campaignId)
    {
        var prefix = Prefix(campaignId);
        var batch = Db.CreateBatch();
        var state = batch.HashGetAsync(prefix + ":wr:state", ["seq", "cursor"]);
        var rate = batch.HashGetAsync(prefix + ":wr:cfg", "rate");
        var preQueue = batch.SortedSetLengthAsync(prefix + ":wr:pre");
        batch.Execute();
        var values = await state;
        var places = (long?)values[0] ?? 0;
        var admitted = Math.Min(places, (long?)values[1] ?? 0);
        return new WaitingRoomFigures(places - admitted, admitted, await preQueue, (double?)await rate ?? 0);
    }

    public Task DeactivateAsync(Guid campaignId) => Db.SetRemoveAsync(ActiveKey, campaignId.ToString("N"));

    public async Task<IReadOnlyList<Guid>> GetActiveAsync() =>
        (await Db.SetMembersAsync(ActiveKey)).Select(v => Guid.Parse((string)v!)).ToList();

    /// <summary>Whether the pre-queue should be placed now: the sale is on and its opening time has come.</summary>
    public async Task<bool> IsDueToOpenAsync(Guid campaignId, DateTimeOffset now)
    {
        var prefix = Prefix(campaignId);
        var cfg = await Db.HashGetAsync(prefix + ":wr:cfg", ["onsale", "opens"]);
        var opened = await Db.HashGetAsync(prefix + ":wr:state", "opened");
        return cfg[0] == "1" && opened != "1" && (long?)cfg[1] is { } opens && now.ToUnixTimeMilliseconds() >= opens;
    }

    private static string Prefix(Guid campaignId) => Inventory.SeatInventory.Prefix(campaignId);

    private Task<RedisResult[]> RunAsync(Guid campaignId, params RedisValue[] args) => RunAsync(campaignId, (IEnumerable<RedisValue>)args);

    private async Task<RedisResult[]> RunAsync(Guid campaignId, IEnumerable<RedisValue> args) =>
        (RedisResult[])(await s_script.EvaluateAsync(Db, [Prefix(campaignId)], [.. args]))!;
}

public sealed record WaitingRoomFigures(long Waiting, long Admitted, long PreQueue, double AdmissionsPerSecond);

/// <summary>A visitor's request to the waiting room: the rate limit's decision, and the visitor's state when it let the request through.</summary>
public sealed record WaitingRoomReply(VisitorStatus? Visitor, RateDecision Rate);

public enum VisitorState
{
    Absent,
    PreQueue,
    Waiting,
    Admitted,
    Expired,
    SoldOut,
}

public sealed record VisitorStatus(VisitorState State)
{
    /// <summary>The visitor's place in the queue (1 = first), fixed once given.</summary>
    public long? Place { get; init; }

    /// <summary>
    /// How many are still ahead, this one included. In the pre-queue, how many are ahead in the order of the draw keys
    /// so far: the place the visitor will get at the opening if nobody who joins later draws a smaller key.
    /// </summary>
    public long? Position { get; init; }

    public double RatePerSecond { get; init; }

    /// <summary>
    /// Pacing by stock holds the queue: as many are admitted as the tickets left allow, and it moves again only when
    /// tickets come back (holds expire, payments fail) or admissions lapse.
    /// </summary>
    public bool PausedByStock { get; init; }

    public long PreQueueSize { get; init; }

    public DateTimeOffset? AdmittedUntil { get; init; }
}

public sealed record WaitingRoomSettings(
    bool OnSale,
    double RatePerSecond,
    bool PaceByStock,
    double VisitorsPerTicket,
    TimeSpan AdmissionLifetime,
    TimeSpan ShoppingWindow,
    int Seats,
    IReadOnlyList<Guid> GeneralAdmission,
    DateTimeOffset OpensAt);
