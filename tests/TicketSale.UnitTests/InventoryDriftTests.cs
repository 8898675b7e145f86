using TicketSale.Worker.Inventory;

namespace TicketSale.UnitTests;

public sealed class InventoryDriftTests
{
    private static readonly Guid s_order = Guid.NewGuid();
    private static readonly Guid s_otherOrder = Guid.NewGuid();

    [Fact]
    public void Seats_sold_to_the_same_order_in_both_stores_agree()
    {
        Assert.Empty(InventoryReconciler.Disagreements(new Dictionary<int, Guid> { [1] = s_order, [2] = s_order }, new Dictionary<int, Guid> { [2] = s_order, [1] = s_order }));
    }

    [Fact]
    public void A_seat_sold_in_only_one_store_or_to_another_order_disagrees()
    {
        var postgres = new Dictionary<int, Guid> { [1] = s_order, [2] = s_order, [3] = s_order };
        var redis = new Dictionary<int, Guid> { [1] = s_order, [3] = s_otherOrder, [4] = s_otherOrder };

        Assert.Equal([2, 3, 4], InventoryReconciler.Disagreements(postgres, redis).Order());
    }
}
