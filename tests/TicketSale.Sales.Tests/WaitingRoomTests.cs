using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TicketSale.Core.WaitingRoom;
using Xunit.Abstractions;

namespace TicketSale.Sales.Tests;

[Collection(SaleCollection.Name)]
public sealed class WaitingRoomTests(SaleFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_thousand_early_visitors_learn_nothing_of_the_draw_before_the_opening_and_are_placed_and_admitted_in_its_order()
    {
        const int visitors = 1000;
        // Slow enough that the queue outlasts the measurement below (1,000 places take 20 s).
        const double rate = 50;
        var opensAt = DateTimeOffset.UtcNow.AddSeconds(12);
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, perUserLimit: 4, generalAdmission: 5000,
            opensAt: opensAt, waitingRoom: true, admissionsPerSecond: rate, paceByStock: false);
        var ids = Enumerable.Range(0, visitors).Select(_ => Guid.NewGuid()).ToList();
        var people = ids.Select(id => fixture.MintCustomer(id)).ToList();
        var path = $"/api/campaigns/{campaign.Id}/waiting-room";

        // Everyone arrives before opening, in index order; a second tab changes nothing.
        await ForAllAsync(people, async p =>
        {
            var joined = (await p.PostAsync(path, null)).Body!;
            Assert.Equal("PreQueue", (string)joined["state"]!);
            Assert.InRange((int)joined["opensInSeconds"]!, 1, 12);
        });
        Assert.Equal("PreQueue", (string)(await people[0].PostAsync(path, null)).Body!["state"]!);
        Assert.Equal(HttpStatusCode.Conflict, (await people[0].HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 1)).Status);

        // With everyone in, nobody is shown a position or a wait, and the time each is told to come back is spread over
        // the opening's first seconds (1,000 at the fixture's 100 a second: 10 s) whatever the draw gave them.
        var comeback = new ConcurrentDictionary<int, double>();
        await ForAllAsync(Enumerable.Range(0, visitors).ToList(), async i =>
        {
            var status = (await people[i].GetAsync(path)).Body!;
            Assert.Null(status["position"]);
            Assert.Null(status["estimatedWaitSeconds"]);
            Assert.Null(status["place"]);
            comeback[i] = (DateTimeOffset.UtcNow.AddSeconds((int)status["pollAfterSeconds"]!) - opensAt).TotalSeconds;
        });
        Assert.True(DateTimeOffset.UtcNow < opensAt, "joining took longer than the time before opening");
        output.WriteLine($"told to come back {comeback.Values.Min():0.00}–{comeback.Values.Max():0.00} s after the opening");
        Assert.All(comeback.Values, seconds => Assert.InRange(seconds, -0.1, (visitors / (double)SaleFixture.OpeningPollsPerSecond) + 1.5));

        await Task.Delay(opensAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500));

        // Opened: every visitor has the place their draw key gives (the test draws the keys as the gateway does, with
        // the waiting room's key), whatever the arrival order.
        var draws = new PreQueueDraws(Microsoft.Extensions.Options.Options.Create(new WaitingRoomOptions { SigningKey = fixture.App.GetParameterValue("waiting-room-key") }));
        var expected = Enumerable.Range(0, visitors).OrderBy(i => draws.Key(campaign.Id, ids[i])).Select((i, rank) => (i, rank)).ToDictionary(x => x.i, x => x.rank + 1L);
        var places = new ConcurrentDictionary<int, long>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (places.Count < visitors && DateTime.UtcNow < deadline)
        {
            await ForAllAsync(Enumerable.Range(0, visitors).Where(i => !places.ContainsKey(i)).ToList(), async i =>
            {
                if ((await people[i].GetAsync(path)).Body!["place"] is { } place)
                {
                    places[i] = (long)place;
                }
            });
        }

        Assert.Equal(visitors, places.Count);
        Assert.All(Enumerable.Range(0, visitors), i => Assert.Equal(expected[i], places[i]));
        var correlation = Correlation(Enumerable.Range(0, visitors).Select(i => (double)i).ToArray(), Enumerable.Range(0, visitors).Select(i => (double)places[i]).ToArray());
        output.WriteLine($"correlation of place with arrival order: {correlation:0.000}");
        Assert.InRange(correlation, -0.15, 0.15);
        // Nor did the time to come back say anything of the place.
        var told = Correlation(Enumerable.Range(0, visitors).Select(i => comeback[i]).ToArray(), Enumerable.Range(0, visitors).Select(i => (double)places[i]).ToArray());
        output.WriteLine($"correlation of place with the time told to come back: {told:0.000}");
        Assert.InRange(told, -0.15, 0.15);

        // The last in line watches the cursor (place - position) move. Admission is credited by the time passed, at most
        // a second's worth at once, so a late tick (the Worker shares the machine with the other tests) is caught up
        // by the next one: over 8 s that moves the measured rate by 12.5% at most (over 3 s it read 133.5/s for 100).
        var last = people[places.Single(p => p.Value == visitors).Key];
        var samples = new List<(double Seconds, long Cursor)>();
        var clock = Stopwatch.StartNew();
        while (samples.Count < 33)
        {
            var status = (await last.GetAsync(path)).Body!;
            samples.Add((clock.Elapsed.TotalSeconds, visitors - (long)status["position"]!));
            await Task.Delay(250);
        }

        var measured = (samples[^1].Cursor - samples[0].Cursor) / (samples[^1].Seconds - samples[0].Seconds);
        output.WriteLine($"admission rate: {measured:0.0}/s (configured {rate}/s)");
        Assert.InRange(measured, rate * 0.8, rate * 1.2);

        // A snapshot between two readings of the cursor: admitted exactly those whose place came up, nobody else.
        var before = visitors - (long)(await last.GetAsync(path)).Body!["position"]!;
        var states = new ConcurrentDictionary<int, string>();
        await ForAllAsync(Enumerable.Range(0, visitors).ToList(), async i => states[i] = (string)(await people[i].GetAsync(path)).Body!["state"]!);
        var after = visitors - (long)(await last.GetAsync(path)).Body!["position"]!;
        Assert.All(Enumerable.Range(0, visitors), i =>
        {
            if (places[i] <= before)
            {
                Assert.Equal("Admitted", states[i]);
            }
            else if (places[i] > after)
            {
                Assert.Equal("Waiting", states[i]);
            }
        });

        // Tokens: one's own works; none, a borrowed, a forged or an expired one does not.
        var first = people[places.Single(p => p.Value == 1).Key];
        var second = people[places.Single(p => p.Value == 2).Key];
        var token = (string)(await first.GetAsync(path)).Body!["admissionToken"]!;
        Assert.Equal(HttpStatusCode.Forbidden, (await HoldAsync(first, campaign, null)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await HoldAsync(second, campaign, token)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await HoldAsync(first, campaign, Tamper(token))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await HoldAsync(first, campaign, ExpiredToken(campaign.Id, UserOf(first)))).Status);
        Assert.Equal(HttpStatusCode.Created, (await HoldAsync(first, campaign, token)).Status);
    }

    [Fact]
    public async Task A_pre_queue_of_several_commands_worth_opens_a_part_at_a_time_with_one_place_each()
    {
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var room = new WaitingRooms(redis);
        var campaign = Guid.NewGuid();
        // Opening time far off, so the Worker's pump leaves this room alone and the test opens it itself.
        await room.ConfigureAsync(campaign, new Core.WaitingRoom.WaitingRoomSettings(true, 10, false, 1, TimeSpan.FromMinutes(10),
            TimeSpan.FromMinutes(2), 0, [], DateTimeOffset.UtcNow.AddHours(1)));
        try
        {
            var visitors = Enumerable.Range(0, (2 * WaitingRooms.VisitorsPerCommand) + 250).Select(_ => Guid.NewGuid()).ToList();
            var keys = new Dictionary<Guid, long>();
            foreach (var visitor in visitors)
            {
                keys[visitor] = PreQueueDraws.RandomKey();
                Assert.Equal(Core.WaitingRoom.VisitorState.PreQueue, (await room.JoinAsync(campaign, visitor, keys[visitor])).State);
            }

            // One leaves before the opening: the parts placed after it still hold everyone else.
            await room.LeaveAsync(campaign, visitors[WaitingRooms.VisitorsPerCommand - 1]);
            visitors.RemoveAt(WaitingRooms.VisitorsPerCommand - 1);

            Assert.Equal(visitors.Count, await room.OpenAsync(campaign));
            Assert.Null(await room.OpenAsync(campaign));

            var places = new List<double>();
            foreach (var visitor in visitors)
            {
                places.Add((double)(await room.StatusAsync(campaign, visitor)).Place!.Value);
            }

            // Places in the order of the draw keys, one each, whatever the order of joining.
            Assert.Equal(visitors.OrderBy(v => keys[v]).Select(v => places[visitors.IndexOf(v)]), Enumerable.Range(1, visitors.Count).Select(p => (double)p));
            Assert.InRange(Correlation([.. Enumerable.Range(0, visitors.Count).Select(i => (double)i)], [.. places]), -0.15, 0.15);
            Assert.Equal(visitors.Count + 1, (await room.JoinAsync(campaign, Guid.NewGuid(), PreQueueDraws.RandomKey())).Place);
        }
        finally
        {
            await room.DeactivateAsync(campaign);
        }
    }

    [Fact]
    public async Task A_pre_queue_left_in_an_older_form_is_kept_and_its_visitors_drawn_at_random_among_the_rest_at_the_opening()
    {
        // The pre-queue was a set, then a sorted set of arrival numbers, before it held draw keys: one taken before a
        // deploy keeps its visitors, and the opening draws keys for them instead of placing them first.
        const int older = 300;
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, perUserLimit: 4, generalAdmission: 100,
            opensAt: DateTimeOffset.UtcNow.AddMinutes(5), waitingRoom: true, admissionsPerSecond: 10, paceByStock: false);
        var early = Enumerable.Range(0, older).Select(_ => Guid.NewGuid()).ToList();
        var key = $"ts:{{{campaign.Id:N}}}:wr:pre";
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var db = redis.GetDatabase();
        await db.SetAddAsync(key, [.. early.Select(v => (StackExchange.Redis.RedisValue)v.ToString("N"))]);
        var path = $"/api/campaigns/{campaign.Id}/waiting-room";

        var status = await fixture.MintCustomer(early[1]).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, status.Status);
        Assert.Equal("PreQueue", (string)status.Body!["state"]!);
        Assert.Equal(StackExchange.Redis.RedisType.SortedSet, await db.KeyTypeAsync(key));
        Assert.Equal(Enumerable.Range(1, older).Select(n => (double)n), (await db.SortedSetRangeByRankWithScoresAsync(key, 0, older - 1)).Select(e => e.Score));

        // As many newcomers join with draw keys (one through the gateway).
        var newcomer = Guid.NewGuid();
        Assert.Equal("PreQueue", (string)(await fixture.MintCustomer(newcomer).PostAsync(path, null)).Body!["state"]!);
        Assert.True(await db.SortedSetScoreAsync(key, newcomer.ToString("N")) >= PreQueueDraws.Smallest);
        var room = new WaitingRooms(redis);
        var later = Enumerable.Range(0, older - 1).Select(_ => Guid.NewGuid()).Append(newcomer).ToList();
        foreach (var visitor in later.SkipLast(1))
        {
            await room.JoinAsync(campaign.Id, visitor, PreQueueDraws.RandomKey());
        }

        // The test opens the room itself (its opening time is minutes away, so the Worker's pump leaves it alone).
        Assert.Equal(2 * older, await room.OpenAsync(campaign.Id));
        var places = new Dictionary<Guid, long>();
        foreach (var visitor in early.Concat(later))
        {
            places[visitor] = (await room.StatusAsync(campaign.Id, visitor)).Place!.Value;
        }

        Assert.Equal(Enumerable.Range(1, 2 * older).Select(p => (long)p), places.Values.Order());
        // Placed first, the older visitors would hold all of the first 300 places; drawn, about half (sd about 6).
        var olderAhead = early.Count(v => places[v] <= older);
        output.WriteLine($"older visitors among the first {older} places: {olderAhead}");
        Assert.InRange(olderAhead, older * 0.35, older * 0.65);
        await room.DeactivateAsync(campaign.Id);
    }

    [Fact]
    public async Task A_visitor_who_leaves_the_pre_queue_and_joins_again_draws_the_same_key()
    {
        // Drawing again by leaving and joining would let anyone reroll a bad place until a good one came up.
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, perUserLimit: 4, generalAdmission: 100,
            opensAt: DateTimeOffset.UtcNow.AddMinutes(5), waitingRoom: true, admissionsPerSecond: 10, paceByStock: false);
        var other = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, perUserLimit: 4, generalAdmission: 100,
            opensAt: DateTimeOffset.UtcNow.AddMinutes(5), waitingRoom: true, admissionsPerSecond: 10, paceByStock: false);
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var db = redis.GetDatabase();
        var visitor = Guid.NewGuid();
        var person = fixture.MintCustomer(visitor);
        async Task<double?> DrawAsync(Guid campaignId) => await db.SortedSetScoreAsync($"ts:{{{campaignId:N}}}:wr:pre", visitor.ToString("N"));

        Assert.Equal(HttpStatusCode.OK, (await person.PostAsync($"/api/campaigns/{campaign.Id}/waiting-room", null)).Status);
        var first = await DrawAsync(campaign.Id);
        Assert.NotNull(first);
        Assert.Equal(HttpStatusCode.NoContent, (await person.DeleteAsync($"/api/campaigns/{campaign.Id}/waiting-room")).Status);
        Assert.Null(await DrawAsync(campaign.Id));
        Assert.Equal(HttpStatusCode.OK, (await person.PostAsync($"/api/campaigns/{campaign.Id}/waiting-room", null)).Status);
        Assert.Equal(first, await DrawAsync(campaign.Id));

        // Another campaign, another draw; another visitor, another draw.
        Assert.Equal(HttpStatusCode.OK, (await person.PostAsync($"/api/campaigns/{other.Id}/waiting-room", null)).Status);
        Assert.NotEqual(first, await DrawAsync(other.Id));
        var someone = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, (await fixture.MintCustomer(someone).PostAsync($"/api/campaigns/{campaign.Id}/waiting-room", null)).Status);
        Assert.NotEqual(first, await db.SortedSetScoreAsync($"ts:{{{campaign.Id:N}}}:wr:pre", someone.ToString("N")));
    }

    [Fact]
    public async Task The_gateway_answers_the_waiting_room_itself_for_bearer_tokens_and_cookie_sessions_alike()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10,
            opensAt: DateTimeOffset.UtcNow.AddSeconds(-1), waitingRoom: true, admissionsPerSecond: 100, paceByStock: false);
        var customer = await fixture.NewCustomerAsync();
        var path = $"/api/campaigns/{campaign.Id}/waiting-room";
        static bool FromAnApi(HttpResponseMessage response) => response.Headers.Contains("X-Served-By");

        // Every answer an Api replica gives carries X-Served-By; the waiting room's come from the gateway alone.
        using var bearer = new HttpClient { BaseAddress = fixture.Web };
        bearer.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", customer.AccessToken);
        using (var orders = await bearer.GetAsync("/api/orders"))
        {
            Assert.Equal(HttpStatusCode.OK, orders.StatusCode);
            Assert.True(FromAnApi(orders));
        }

        using (var joined = await bearer.PostAsync(path, null))
        {
            Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
            Assert.False(FromAnApi(joined));
        }

        // A cookie session: the gateway turns it into the same token, and a join or a leave needs the antiforgery token.
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = fixture.Web };
        using var login = await browser.PostAsync("/bff/login", System.Net.Http.Json.JsonContent.Create(new { email = customer.Email, password = "a long enough password" }));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var xsrf = (string)JsonNode.Parse(await login.Content.ReadAsStringAsync())!["antiforgeryToken"]!;
        using (var forged = await browser.PostAsync(path, null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        }

        using var join = new HttpRequestMessage(HttpMethod.Post, path);
        join.Headers.Add("X-XSRF-TOKEN", xsrf);
        using (var joined = await browser.SendAsync(join))
        {
            Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
            Assert.False(FromAnApi(joined));
        }

        // The same visitor, whichever way they come: the same place (once the Worker's pump has opened the room).
        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonNode state;
        while (true)
        {
            using var byCookie = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, byCookie.StatusCode);
            state = JsonNode.Parse(await byCookie.Content.ReadAsStringAsync())!;
            if ((string)state["state"]! != "PreQueue" || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.Contains((string)state["state"]!, new[] { "Waiting", "Admitted" });
        using var byToken = await bearer.GetAsync(path);
        Assert.Equal((long)state["place"]!, (long)JsonNode.Parse(await byToken.Content.ReadAsStringAsync())!["place"]!);

        using var leave = new HttpRequestMessage(HttpMethod.Delete, path);
        leave.Headers.Add("X-XSRF-TOKEN", xsrf);
        using var left = await browser.SendAsync(leave);
        Assert.Equal(HttpStatusCode.NoContent, left.StatusCode);
        Assert.False(FromAnApi(left));
    }

    [Fact]
    public async Task With_every_api_replica_down_the_gateway_keeps_answering_the_waiting_room_of_a_campaign_it_has_read()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10,
            opensAt: DateTimeOffset.UtcNow.AddSeconds(-1), waitingRoom: true, admissionsPerSecond: 100, paceByStock: false);
        var visitor = fixture.MintCustomer(Guid.NewGuid());
        var path = $"/api/campaigns/{campaign.Id}/waiting-room";
        Assert.Equal(HttpStatusCode.OK, (await visitor.PostAsync(path, null)).Status);

        var replicas = fixture.App.ReplicaCount("api");
        // Stopped, not killed: a crashed replica is restarted within seconds, and this needs them down for longer.
        for (var replica = 0; replica < replicas; replica++)
        {
            await fixture.App.StopResourceAsync("api", replica);
        }

        try
        {
            // Past the 5 s the gateway keeps a campaign: its reads now find no Api.
            await Task.Delay(TimeSpan.FromSeconds(6));
            var polled = await visitor.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, polled.Status);
            Assert.Contains((string)polled.Body!["state"]!, new[] { "PreQueue", "Waiting", "Admitted" });
            var newcomer = await fixture.MintCustomer(Guid.NewGuid()).PostAsync(path, null);
            Assert.Equal(HttpStatusCode.OK, newcomer.Status);

            // A campaign the gateway never read: come back later, not an error.
            var unread = await visitor.GetAsync($"/api/campaigns/{Guid.NewGuid()}/waiting-room");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unread.Status);
            Assert.Equal("application/problem+json", unread.ContentType);
        }
        finally
        {
            for (var replica = 0; replica < replicas; replica++)
            {
                await fixture.App.StartResourceAsync("api", replica);
            }
        }

        // The Api answers through the gateway again before the next test runs.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await visitor.GetAsync("/api/orders")).Status != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync(path)).Status);
    }

    [Fact]
    public async Task The_rate_can_be_changed_during_the_sale_and_the_room_switched_off()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 5000,
            opensAt: DateTimeOffset.UtcNow.AddSeconds(-1), waitingRoom: true, admissionsPerSecond: 20, paceByStock: false);
        var people = Enumerable.Range(0, 400).Select(_ => fixture.MintCustomer(Guid.NewGuid())).ToList();
        var path = $"/api/campaigns/{campaign.Id}/waiting-room";
        await ForAllAsync(people, async p => await p.PostAsync(path, null));

        // Whoever came before the pump opened the room was placed by their draw: watch whoever has the last place.
        var places = new ConcurrentDictionary<ApiClient, long>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (places.Count < people.Count && DateTime.UtcNow < deadline)
        {
            await ForAllAsync(people, async p =>
            {
                if ((await p.GetAsync(path)).Body!["place"] is { } place)
                {
                    places[p] = (long)place;
                }
            });
        }

        Assert.Equal(people.Count, places.Count);
        var last = places.MaxBy(p => p.Value).Key;

        async Task<double> RateAsync(TimeSpan over)
        {
            var from = 400 - (long)(await last.GetAsync(path)).Body!["position"]!;
            var clock = Stopwatch.StartNew();
            await Task.Delay(over);
            var to = 400 - (long)(await last.GetAsync(path)).Body!["position"]!;
            return (to - from) / clock.Elapsed.TotalSeconds;
        }

        var slow = await RateAsync(TimeSpan.FromSeconds(2));
        await fixture.ChangeCampaignAsync(HttpMethod.Put, $"/api/admin/campaigns/{campaign.Id}/waiting-room",
            new { enabled = true, admissionsPerSecond = 80.0, paceAdmissionsByStock = false });
        var fast = await RateAsync(TimeSpan.FromSeconds(2));
        output.WriteLine($"rate before: {slow:0.0}/s (20), after: {fast:0.0}/s (80)");
        Assert.InRange(slow, 20 * 0.7, 20 * 1.3);
        Assert.InRange(fast, 80 * 0.75, 80 * 1.25);

        // Off: no token needed any more.
        Assert.Equal(HttpStatusCode.Forbidden, (await HoldAsync(last, campaign, null)).Status);
        await fixture.ChangeCampaignAsync(HttpMethod.Put, $"/api/admin/campaigns/{campaign.Id}/waiting-room",
            new { enabled = false, admissionsPerSecond = 80.0, paceAdmissionsByStock = false });
        Assert.Equal(HttpStatusCode.Created, (await HoldAsync(last, campaign, null)).Status);
    }

    [Fact]
    public async Task After_opening_visitors_queue_in_arrival_order_keep_their_place_and_see_position_wait_and_when_to_ask_again()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 100,
            opensAt: DateTimeOffset.UtcNow.AddSeconds(-1), waitingRoom: true, admissionsPerSecond: 0.1, paceByStock: false);
        var path = $"/api/campaigns/{campaign.Id}/waiting-room";
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // the pump opens the room
        var people = Enumerable.Range(0, 5).Select(_ => fixture.MintCustomer(Guid.NewGuid())).ToList();

        var places = new List<long>();
        foreach (var person in people)
        {
            places.Add((long)(await person.PostAsync(path, null)).Body!["place"]!);
        }

        Assert.Equal(places.Order(), places);
        Assert.Equal(places.Count, places.Distinct().Count());
        Assert.Equal(places[2], (long)(await people[2].PostAsync(path, null)).Body!["place"]!); // another tab

        var last = (await people[^1].GetAsync(path)).Body!;
        Assert.Equal("Waiting", (string)last["state"]!);
        var position = (long)last["position"]!;
        Assert.InRange(position, 1, 5);
        Assert.Equal((int)Math.Ceiling(position / 0.1), (int)last["estimatedWaitSeconds"]!);
        Assert.InRange((int)last["pollAfterSeconds"]!, 1, 30);
        Assert.Null(last["admissionToken"]);
    }

    [Fact]
    public async Task A_join_takes_one_script_call_and_answers_with_the_visitors_state()
    {
        // Tens of thousands join in a sale's first seconds: each join is one round trip to Redis, not a join and then
        // a status. Counted on a connection of the test's own, so no other client's commands mix in.
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 100,
            opensAt: DateTimeOffset.UtcNow.AddSeconds(-1), waitingRoom: true, admissionsPerSecond: 0.1, paceByStock: false);
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // the pump opens the room
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"));
        var room = new WaitingRooms(redis);
        await room.JoinAsync(campaign.Id, Guid.NewGuid(), PreQueueDraws.RandomKey()); // the script is in Redis's cache from here on

        long Operations() => redis.GetCounters().Interactive.OperationCount;
        var visitor = Guid.NewGuid();
        var before = Operations();
        var joined = await room.JoinAsync(campaign.Id, visitor, PreQueueDraws.RandomKey());
        Assert.Equal(1, Operations() - before);
        Assert.Equal(Core.WaitingRoom.VisitorState.Waiting, joined.State);
        Assert.Equal(2, joined.Place);

        // Joining again keeps the place, and the state read on its own says the same.
        Assert.Equal(2, (await room.JoinAsync(campaign.Id, visitor, PreQueueDraws.RandomKey())).Place);
        var status = await room.StatusAsync(campaign.Id, visitor);
        Assert.Equal((joined.State, joined.Place, joined.Position), (status.State, status.Place, status.Position));
    }

    [Fact]
    public async Task Admission_is_paced_by_the_stock_left_buyers_stop_counting_and_the_rest_learn_it_is_sold_out()
    {
        var (campaign, people, path) = await PacedQueueAsync(visitors: 60, tickets: 10, admissionsPerSecond: 20);

        // 10 tickets left, 1 visitor per ticket: 10 admitted at a time, however fast the rate. The queue stands
        // still, so those waiting are told their wait is unknown; the head of the queue (the next second's 20
        // admissions) asks again in 5 s, the rest in 30 s, not every second.
        var states = await StatesAsync(people, path);
        var admitted = states.Where(s => s.State == "Admitted").ToList();
        Assert.Equal(10, admitted.Count);
        var waiting = states.Where(s => s.State == "Waiting").ToList();
        Assert.Equal(50, waiting.Count);
        Assert.All(waiting, s => Assert.Null(s.Body["estimatedWaitSeconds"]));
        Assert.All(waiting, s => Assert.Equal((int)s.Body["position"]! <= 20 ? 5 : 30, (int)s.Body["pollAfterSeconds"]!));
        Assert.Equal(20, waiting.Count(s => (int)s.Body["pollAfterSeconds"]! == 5));

        // The admitted buy the lot. Those whose purchase is accepted are done shopping: pacing stops counting them
        // (tickets that come back would go to the next in line), though their admissions still run.
        var holds = new ConcurrentBag<(ApiClient Person, Guid Hold)>();
        await ForAllAsync(admitted, async s =>
        {
            var hold = await HoldAsync(s.Person, campaign, s.Token);
            Assert.Equal(HttpStatusCode.Created, hold.Status);
            holds.Add((s.Person, Guid.Parse((string)hold.Body!["holdId"]!)));
        });
        // Nothing is left but all of it is held, and held tickets may come back: those waiting still wait.
        Assert.All(await StatesAsync(waiting.Select(s => s.Person).ToList(), path), s => Assert.Equal("Waiting", s.State));

        var buyers = holds.Take(4).ToList();
        var purchases = new ConcurrentBag<Guid>();
        async Task BuyAsync((ApiClient Person, Guid Hold) b)
        {
            var (status, purchase, _) = await b.Person.PurchaseAsync(campaign.Id, b.Hold);
            Assert.Equal(HttpStatusCode.Accepted, status);
            purchases.Add(purchase!.Value);
        }

        await ForAllAsync(buyers, BuyAsync);
        await using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache")))
        {
            var shopping = (await redis.GetDatabase().SortedSetRangeByRankAsync($"ts:{{{campaign.Id:N}}}:wr:shop")).Select(v => (string)v!).ToHashSet();
            Assert.Equal(6, shopping.Count);
            Assert.DoesNotContain(buyers, b => shopping.Contains(UserOf(b.Person).ToString("N")));
        }

        Assert.All(await StatesAsync(buyers.Select(b => b.Person).ToList(), path), s => Assert.Equal("Admitted", s.State));

        // The rest buy too; once the purchases are confirmed everyone still waiting learns it is sold out, and
        // asking again says the same.
        await ForAllAsync(holds.Skip(4).ToList(), BuyAsync);
        Assert.All((await fixture.WaitForOutcomesAsync(purchases.ToList(), TimeSpan.FromSeconds(30))).Values, o => Assert.Equal("Confirmed", o));
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var after = await StatesAsync(people, path);
        Assert.Equal(50, after.Count(s => s.State == "SoldOut"));
        Assert.Equal("SoldOut", (string)(await waiting[0].Person.GetAsync(path)).Body!["state"]!);
    }

    [Fact]
    public async Task Visitors_who_leave_make_room_at_once_their_admission_ends_and_a_place_left_behind_is_given_up()
    {
        var (campaign, people, path) = await PacedQueueAsync(visitors: 30, tickets: 10, admissionsPerSecond: 1000);
        var first = await StatesAsync(people, path);
        Assert.Equal(10, first.Count(s => s.State == "Admitted"));

        // Four of the admitted leave without buying: the next four are let in straight away, well within the shopping
        // window the leavers would otherwise have counted for.
        var leavers = first.Where(s => s.State == "Admitted").Take(4).ToList();
        await ForAllAsync(leavers, async s =>
            Assert.Equal(HttpStatusCode.NoContent, (await s.Person.DeleteAsync(path)).Status));
        var quitter = first.Where(s => s.State == "Waiting").MaxBy(s => (long)s.Body["place"]!).Person;
        Assert.Equal(HttpStatusCode.NoContent, (await quitter.DeleteAsync(path)).Status);
        await Task.Delay(TimeSpan.FromMilliseconds(600));

        var later = await StatesAsync(people.Where(p => p != quitter).ToList(), path);
        Assert.Equal(10, later.Count(s => s.State == "Admitted"));
        Assert.Equal(15, later.Count(s => s.State == "Waiting"));
        Assert.Equal(HttpStatusCode.NotFound, (await quitter.GetAsync(path)).Status);

        // The leavers' admission ended with their visit: the tokens they were given, not yet expired, hold nothing.
        Assert.All(later.Where(s => leavers.Any(l => l.Person == s.Person)), s => Assert.Equal("Expired", s.State));
        await ForAllAsync(leavers, async s =>
            Assert.Equal(HttpStatusCode.Forbidden, (await HoldAsync(s.Person, campaign, s.Token)).Status));
        // One who stayed holds with theirs.
        var stayed = first.First(s => s.State == "Admitted" && leavers.All(l => l.Person != s.Person));
        Assert.Equal(HttpStatusCode.Created, (await HoldAsync(stayed.Person, campaign, stayed.Token)).Status);
    }

    [Fact]
    public async Task Visitors_admitted_long_ago_no_longer_hold_back_the_queue_when_tickets_are_left()
    {
        var (_, people, path) = await PacedQueueAsync(visitors: 30, tickets: 10, admissionsPerSecond: 1000);
        var first = await StatesAsync(people, path);
        Assert.Equal(10, first.Count(s => s.State == "Admitted"));

        // The 10 admitted leave without buying, and without telling: all 10 tickets are still there. Once their
        // shopping window has passed, the next 10 are let in, though the first 10 admissions themselves still run.
        await Task.Delay(SaleFixture.ShoppingWindow + TimeSpan.FromSeconds(1.5));
        var later = await StatesAsync(people, path);
        Assert.Equal(20, later.Count(s => s.State == "Admitted"));
    }

    /// <summary>A general-admission sale paced by stock, everyone joined and the first admissions made.</summary>
    private async Task<(Campaign Campaign, List<ApiClient> People, string Path)> PacedQueueAsync(int visitors, int tickets, double admissionsPerSecond)
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, perUserLimit: 1, generalAdmission: tickets,
            opensAt: DateTimeOffset.UtcNow.AddSeconds(-1), waitingRoom: true, admissionsPerSecond: admissionsPerSecond, paceByStock: true);
        var people = Enumerable.Range(0, visitors).Select(_ => fixture.MintCustomer(Guid.NewGuid())).ToList();
        var path = $"/api/campaigns/{campaign.Id}/waiting-room";
        await ForAllAsync(people, async p => await p.PostAsync(path, null));
        await Task.Delay(TimeSpan.FromSeconds(1));
        return (campaign, people, path);
    }

    private static async Task<List<(ApiClient Person, string State, string? Token, JsonNode Body)>> StatesAsync(IReadOnlyList<ApiClient> people, string path)
    {
        var states = new ConcurrentBag<(ApiClient, string, string?, JsonNode)>();
        await ForAllAsync(people, async p =>
        {
            var body = (await p.GetAsync(path)).Body!;
            states.Add((p, (string)body["state"]!, (string?)body["admissionToken"], body));
        });
        return states.ToList();
    }

    private static Task<ApiResponse> HoldAsync(ApiClient person, Campaign campaign, string? token) =>
        person.SendAsync(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/holds", null, rawContent: WithToken(
            new StringContent($"{{\"generalAdmissionCategoryId\":\"{campaign.GeneralAdmissionId}\",\"quantity\":1}}", Encoding.UTF8, "application/json"), token));

    private static HttpContent WithToken(HttpContent content, string? token)
    {
        if (token is not null)
        {
            content.Headers.Add("X-Admission-Token", token);
        }

        return content;
    }

    private static string Tamper(string token) => token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];

    private string ExpiredToken(Guid campaign, Guid user)
    {
        static string Encode(byte[] bytes) => AccessTokens.Encode(bytes);
        var payload = $"{campaign:N}.{user:N}.{DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeMilliseconds()}";
        var key = Encoding.UTF8.GetBytes(fixture.App.GetParameterValue("waiting-room-key"));
        return Encode(Encoding.UTF8.GetBytes(payload)) + "." + Encode(System.Security.Cryptography.HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(payload)));
    }

    private static Guid UserOf(ApiClient person)
    {
        var payload = person.AccessToken!.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload += new string('=', (4 - (payload.Length % 4)) % 4);
        return Guid.Parse((string)JsonNode.Parse(Convert.FromBase64String(payload))!["sub"]!);
    }

    private static async Task ForAllAsync<T>(IReadOnlyList<T> items, Func<T, Task> action)
    {
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(items.Select(async item =>
        {
            await gate.WaitAsync();
            try
            {
                await action(item);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private static double Correlation(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average();
        var cov = x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum();
        return cov / Math.Sqrt(x.Sum(a => (a - mx) * (a - mx)) * y.Sum(b => (b - my) * (b - my)));
    }
}
