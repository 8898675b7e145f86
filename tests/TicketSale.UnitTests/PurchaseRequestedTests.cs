using TicketSale.Core.Messaging;

namespace TicketSale.UnitTests;

public sealed class PurchaseRequestedTests
{
    private static readonly PurchaseRequested s_valid = new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), [1, 2], null, 0, 8400,
        DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(15));

    [Fact]
    public void A_well_formed_message_has_no_problem()
    {
        Assert.Null(s_valid.Problem());
        Assert.Null((s_valid with { Seats = [], GeneralAdmissionCategoryId = Guid.NewGuid(), Quantity = 3 }).Problem());
    }

    public static TheoryData<string, PurchaseRequested> Malformed => new()
    {
        { "an id is missing", s_valid with { PurchaseId = Guid.Empty } },
        { "an id is missing", s_valid with { HoldId = Guid.Empty } },
        { "the amount is not positive", s_valid with { AmountCents = 0 } },
        { "it must be seats or general admission", s_valid with { GeneralAdmissionCategoryId = Guid.NewGuid(), Quantity = 1 } },
        { "it must be seats or general admission", s_valid with { Seats = [] } },
        { "the quantity is out of range", s_valid with { Seats = [], GeneralAdmissionCategoryId = Guid.NewGuid(), Quantity = 0 } },
        { "the seat list is invalid", s_valid with { Seats = [3, 3] } },
        { "the seat list is invalid", s_valid with { Seats = [-1] } },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_message_says_what_is_wrong(string expected, PurchaseRequested message) =>
        Assert.Equal(expected, message.Problem());
}
