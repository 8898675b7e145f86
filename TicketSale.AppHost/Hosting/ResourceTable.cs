using System.Text;

namespace TicketSale.AppHost.Hosting;

internal static class ResourceTable
{
    public static string Render(DistributedApplication app, string title)
    {
        var rows = app.Describe().ToList();
        var nameWidth = Math.Max(8, rows.Max(r => r.Name.Length));
        var stateWidth = Math.Max(5, rows.Max(r => r.State.Length));
        var text = new StringBuilder().AppendLine().AppendLine(title);
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"  {"RESOURCE".PadRight(nameWidth)}  {"STATE".PadRight(stateWidth)}  {"PID",7}  {"RESTARTS",8}  ENDPOINT");
        foreach (var (name, state, endpoint, pid, restarts) in rows)
        {
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"  {name.PadRight(nameWidth)}  {state.PadRight(stateWidth)}  {pid,7}  {restarts,8}  {endpoint}");
        }

        return text.ToString();
    }
}
