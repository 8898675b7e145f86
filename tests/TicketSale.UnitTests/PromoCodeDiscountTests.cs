using TicketSale.Api.Sales;
using TicketSale.Core.Data;

namespace TicketSale.UnitTests;

public sealed class PromoCodeDiscountTests
{
    private static readonly PricedTicket[] s_tickets = [new("standard", 4200), new("standard", 4200), new("premium", 9900), new("Floor", 1500)];

    [Theory]
    [InlineData(PromoKind.Percent, 10, null, 420 + 420 + 990 + 150)]
    [InlineData(PromoKind.Percent, 100, "premium", 9900)]
    [InlineData(PromoKind.Percent, 15, "STANDARD", 630 + 630)]
    [InlineData(PromoKind.AmountOff, 500, null, 500 * 4)]
    [InlineData(PromoKind.AmountOff, 2000, "floor", 1500)]
    [InlineData(PromoKind.AmountOff, 500, "balcony", 0)]
    public void A_code_takes_its_discount_off_the_tickets_of_its_category_only(PromoKind kind, long value, string? category, long expected) =>
        Assert.Equal(expected, PromoCodes.Discount(kind, value, category, s_tickets));

    [Fact]
    public void A_percentage_rounds_each_ticket_down_to_the_cent() =>
        Assert.Equal(33 + 33, PromoCodes.Discount(PromoKind.Percent, 33, null, [new("a", 101), new("a", 101)]));
}
