using Microsoft.Extensions.Options;
using TicketSale.Core.WaitingRoom;
using TicketSale.Web.WaitingRoom;

namespace TicketSale.UnitTests;

public sealed class PreQueueDrawsTests
{
    private static PreQueueDraws Draws(string secret) => new(Options.Create(new WaitingRoomOptions { SigningKey = secret }));

    private static readonly PreQueueDraws s_draws = Draws(new string('k', 32));

    [Fact]
    public void A_visitor_draws_the_same_key_every_time_for_a_campaign_and_another_for_another_campaign()
    {
        Guid campaign = Guid.NewGuid(), other = Guid.NewGuid(), visitor = Guid.NewGuid();
        Assert.Equal(s_draws.Key(campaign, visitor), s_draws.Key(campaign, visitor));
        Assert.Equal(s_draws.Key(campaign, visitor), Draws(new string('k', 32)).Key(campaign, visitor));
        Assert.NotEqual(s_draws.Key(campaign, visitor), s_draws.Key(other, visitor));
        Assert.NotEqual(s_draws.Key(campaign, visitor), s_draws.Key(campaign, Guid.NewGuid()));
    }

    [Fact]
    public void Without_the_secret_nobody_can_tell_a_visitors_key()
    {
        Guid campaign = Guid.NewGuid(), visitor = Guid.NewGuid();
        Assert.NotEqual(s_draws.Key(campaign, visitor), Draws(new string('j', 32)).Key(campaign, visitor));
    }

    [Fact]
    public void Keys_are_exact_as_redis_scores_above_every_arrival_number_and_spread_evenly()
    {
        var campaign = Guid.NewGuid();
        var keys = Enumerable.Range(0, 20_000).Select(_ => s_draws.Key(campaign, Guid.NewGuid()))
            .Concat(Enumerable.Range(0, 20_000).Select(_ => PreQueueDraws.RandomKey())).ToList();
        Assert.All(keys, key =>
        {
            Assert.InRange(key, PreQueueDraws.Smallest, long.MaxValue);
            Assert.Equal(key, (long)(double)key);
        });

        // Where each key falls between the smallest and largest possible: uniform, so the order they make is a fair draw.
        var quantiles = keys.Select(k => (double)(k - (1L << 52)) / (1L << 52)).ToList();
        Assert.All(quantiles, q => Assert.InRange(q, 0, 1));
        Assert.InRange(quantiles.Average(), 0.49, 0.51);
        Assert.All(Enumerable.Range(0, 10), decile => Assert.InRange(quantiles.Count(q => (int)(q * 10) == decile), 3_600, 4_400));
    }
}

public sealed class PreQueuePollAfterTests
{
    private static readonly WaitingRoomOptions s_options = new() { PreQueueComebackSeconds = 60, OpeningPollsPerSecond = 2000 };

    private static int PollAfter(double untilOpening, long preQueueSize, double draw) => WaitingRoomApi.PreQueuePollAfter(untilOpening, preQueueSize, s_options, draw);

    [Fact]
    public void Long_before_the_opening_the_pre_queue_asks_at_half_the_time_left_at_most_30_s_apart()
    {
        Assert.Equal(20, PollAfter(40, 1, 0.5));
        Assert.Equal(30, PollAfter(600, 50_000, 0.5));
    }

    [Fact]
    public void In_the_last_half_minute_the_pre_queue_is_told_to_come_back_spread_over_the_opening_at_the_opening_pace()
    {
        // 50,000 at 2,000 a second: over 25 s from the opening, where the draw puts each.
        Assert.Equal(10, PollAfter(10, 50_000, 0));
        Assert.Equal(23, PollAfter(10, 50_000, 0.5));
        Assert.Equal(35, PollAfter(10, 50_000, 1));
        // A million would take 500 s: spread over the 60 s limit instead.
        Assert.Equal(70, PollAfter(10, 1_000_000, 1));
        // Opened, not yet placed: soon again.
        Assert.Equal(1, PollAfter(0, 10, 0.5));
    }

    [Fact]
    public void What_a_visitor_is_told_depends_on_the_time_and_the_pre_queue_not_on_where_the_draw_put_them()
    {
        // The method cannot see the visitor's place at all; across every draw the times fill the spread evenly.
        var times = Enumerable.Range(0, 1000).Select(i => PollAfter(10, 20_000, i / 1000.0)).ToList();
        Assert.Equal(10, times.Min());
        Assert.Equal(20, times.Max());
        Assert.All(Enumerable.Range(11, 10), second => Assert.InRange(times.Count(t => t == second), 90, 110));
    }
}
