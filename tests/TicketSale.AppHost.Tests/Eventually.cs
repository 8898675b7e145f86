namespace TicketSale.AppHost.Tests;

/// <summary>
/// For conditions that become true asynchronously (a reconnect, a health probe): keeps checking until the deadline,
/// then fails with the last assertion's own message.
/// </summary>
internal static class Eventually
{
    public static async Task SucceedsAsync(Func<Task> assertion, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
