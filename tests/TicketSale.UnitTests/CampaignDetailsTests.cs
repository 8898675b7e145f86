using TicketSale.Api.Sales;
using TicketSale.Core.Data;

namespace TicketSale.UnitTests;

public sealed class CampaignDetailsTests
{
    private static readonly DateTimeOffset s_now = new(2030, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static CampaignDetails Campaign(CampaignStatus status = CampaignStatus.OnSale) => new(
        Guid.NewGuid(), "Show", status, s_now.AddDays(3), s_now.AddHours(-1), s_now.AddHours(1), PerUserLimit: 4, HoldSeconds: 600,
        CancellationAllowed: true, WaitingRoomEnabled: false, AdmissionsPerSecond: 50, PaceAdmissionsByStock: true, Version: 3,
        new VenueView(Guid.NewGuid(), "Hall", 300,
        [
            new SectionView("Front", "gold", Rows: 2, SeatsPerRow: 50, FirstSeatIndex: 0),
            new SectionView("Back", "silver", Rows: 4, SeatsPerRow: 50, FirstSeatIndex: 100),
        ]),
        [new PriceView("gold", 9000), new PriceView("silver", 4000)],
        []);

    [Theory]
    [InlineData(0, 9000)]
    [InlineData(99, 9000)]
    [InlineData(100, 4000)]
    [InlineData(299, 4000)]
    public void A_seat_costs_the_price_of_its_sections_category(int seat, long price) =>
        Assert.Equal(price, Campaign().SeatPrice(seat));

    [Fact]
    public void A_campaign_is_on_sale_only_while_open_and_inside_its_window()
    {
        Assert.True(Campaign().IsOnSale(s_now));
        Assert.False(Campaign().IsOnSale(s_now.AddHours(2)));
        Assert.False(Campaign().IsOnSale(s_now.AddHours(-2)));
        Assert.False(Campaign(CampaignStatus.Published).IsOnSale(s_now));
        Assert.Equal(300, Campaign().SeatCount);
    }
}
