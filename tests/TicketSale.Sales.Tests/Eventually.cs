namespace TicketSale.Sales.Tests;

internal static class Eventually
{
    /// <summary>Waits until <paramref name="condition"/> holds; fails the test, naming <paramref name="what"/>, after the timeout (30 s).</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(200);
        }
    }
}
