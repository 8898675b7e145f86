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

    private static int PollAfter(double untilOpening, long rank, double rate) => WaitingRoomApi.PreQueuePollAfter(untilOpening, rank, rate, s_options);

    [Fact]
    public void Long_before_the_opening_the_pre_queue_asks_at_half_the_time_left_at_most_30_s_apart()
    {
        Assert.Equal(20, PollAfter(40, 1, 400));
        Assert.Equal(30, PollAfter(600, 50_000, 400));
    }

    [Fact]
    public void In_the_last_half_minute_a_visitor_is_told_to_come_back_when_their_turn_is_due()
    {
        Assert.Equal(11, PollAfter(10, 1, 400));
        Assert.Equal(20, PollAfter(10, 4_000, 400));
        Assert.Equal(70, PollAfter(10, 24_000, 400));
        // Opened, not yet placed: soon again.
        Assert.Equal(1, PollAfter(0, 1, 400));
    }

    [Fact]
    public void A_turn_further_than_the_limit_comes_back_at_it_spread_at_the_opening_pace_never_after_the_turn()
    {
        Assert.Equal(71, PollAfter(10, 24_400, 400)); // 60 s + 400 / 2,000
        Assert.Equal(83, PollAfter(10, 50_000, 400)); // 60 s + 26,000 / 2,000
        var previous = 0;
        for (var rank = 1L; rank <= 100_000; rank += 97)
        {
            var seconds = PollAfter(0, rank, 400);
            Assert.True(seconds >= previous, $"rank {rank} told {seconds} s, before rank {rank - 97} ({previous} s)");
            Assert.True(seconds <= Math.Ceiling(rank / 400.0) || seconds == 1, $"rank {rank} told {seconds} s, after its turn");
            previous = seconds;
        }
    }

    [Fact]
    public void With_no_admission_rate_the_pre_queue_comes_back_at_the_limit_spread_at_the_opening_pace()
    {
        Assert.Equal(71, PollAfter(10, 1, 0));
        Assert.Equal(75, PollAfter(10, 10_000, 0));
    }
}
