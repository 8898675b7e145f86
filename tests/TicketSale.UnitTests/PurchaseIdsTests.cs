using TicketSale.Core.Messaging;

namespace TicketSale.UnitTests;

public sealed class PurchaseIdsTests
{
    [Fact]
    public void A_user_and_key_name_one_purchase_every_time_and_nothing_else_names_it()
    {
        Guid user = Guid.NewGuid(), other = Guid.NewGuid();
        Assert.Equal(PurchaseIds.For(user, "key-00000001"), PurchaseIds.For(user, "key-00000001"));
        Assert.NotEqual(PurchaseIds.For(user, "key-00000001"), PurchaseIds.For(user, "key-00000002"));
        Assert.NotEqual(PurchaseIds.For(user, "key-00000001"), PurchaseIds.For(other, "key-00000001"));
    }

    [Fact]
    public void The_id_is_a_well_formed_version_8_uuid()
    {
        var id = PurchaseIds.For(Guid.NewGuid(), "key-00000001");
        Assert.Equal(8, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
    }

    [Fact]
    public void A_key_is_required() =>
        Assert.Throws<ArgumentException>(() => PurchaseIds.For(Guid.NewGuid(), ""));
}
