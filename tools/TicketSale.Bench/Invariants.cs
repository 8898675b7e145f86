using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TicketSale.Bench.Scenarios;

namespace TicketSale.Bench;

/// <summary>
/// The invariants of docs/architecture.md over everything the run sold: no seat sold twice, sold ≤ capacity, every accepted purchase
/// resolved (confirmed with its order, or failed), nobody charged twice nor charged without a ticket, and Redis
/// showing every sold seat as taken. Violations are listed, never thrown: the run reports them all.
/// </summary>
public static class Invariants
{
    /// <summary>
    /// Waits until every purchase accepted so far is decided, or the timeout passes; returns how many are not. A
    /// progress bar (labelled "<paramref name="what"/> N accepted purchases") shows only when there is anything to wait for.
    /// </summary>
    public static async Task<int> WaitForOutcomesAsync(BenchRun run, TimeSpan timeout, string what = "outcomes of")
    {
        const string Decided = "SELECT count(*) FROM \"Purchases\" WHERE \"Id\" = ANY($1) AND \"Status\" <> 'Pending'";
        var ids = run.AcceptedPurchases.Distinct().ToArray();
        var deadline = DateTime.UtcNow + timeout;
        var decided = ids.Length == 0 ? 0 : await run.Target.ScalarAsync(Decided, ids);
        if (decided == ids.Length)
        {
            return 0;
        }

        var bar = run.Phase($"{what} {ids.Length:N0} accepted purchases", ids.Length);
        while (decided < ids.Length && DateTime.UtcNow < deadline)
        {
            bar.Value = decided;
            await Task.Delay(500);
            decided = await run.Target.ScalarAsync(Decided, ids);
        }

        bar.Value = bar.MaxValue;
        return (int)(ids.Length - decided);
    }

    public static async Task<List<string>> CheckAsync(BenchRun run)
    {
        var violations = new List<string>();
        var target = run.Target;
        var campaigns = run.Campaigns.Select(c => c.Id).ToArray();

        var doubleSold = await target.ScalarAsync(
            "SELECT count(*) FROM (SELECT 1 FROM \"Tickets\" WHERE \"CampaignId\" = ANY($1) AND \"Active\" AND \"SeatIndex\" IS NOT NULL GROUP BY \"CampaignId\", \"SeatIndex\" HAVING count(*) > 1) d", campaigns);
        if (doubleSold > 0)
        {
            violations.Add($"{doubleSold} seats sold more than once");
        }

        var overSold = await target.QueryAsync(
            "SELECT g.\"Id\", g.\"Capacity\", g.\"Sold\", (SELECT count(*) FROM \"Tickets\" t WHERE t.\"GeneralAdmissionCategoryId\" = g.\"Id\" AND t.\"Active\") FROM \"GeneralAdmissionCategories\" g WHERE g.\"CampaignId\" = ANY($1)",
            r => (Id: r.GetGuid(0), Capacity: r.GetInt32(1), Sold: r.GetInt32(2), Tickets: r.GetInt64(3)), campaigns);
        foreach (var g in overSold.Where(g => g.Sold < 0 || g.Sold > g.Capacity || g.Sold != g.Tickets))
        {
            violations.Add($"general admission {g.Id}: capacity {g.Capacity}, counter {g.Sold}, tickets {g.Tickets}");
        }

        foreach (var campaign in run.Campaigns.Where(c => c.Seats > 0))
        {
            var sold = await target.QueryAsync("SELECT \"SeatIndex\" FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\" AND \"SeatIndex\" IS NOT NULL", r => r.GetInt32(0), campaign.Id);
            if (sold.Count > campaign.Seats || sold.Any(s => s < 0 || s >= campaign.Seats))
            {
                violations.Add($"campaign {campaign.Id}: {sold.Count} seats sold of {campaign.Seats}");
            }

            var map = await target.Http.GetFromJsonAsync<JsonObject>(new Uri(target.Web, $"/api/campaigns/{campaign.Id}/seats"));
            var taken = new SeatBitmap(Convert.FromBase64String((string)map!["taken"]!), campaign.Seats);
            var shownFree = sold.Count(s => !taken[s]);
            if (shownFree > 0)
            {
                violations.Add($"campaign {campaign.Id}: {shownFree} sold seats shown as free by Redis");
            }
        }

        var unresolved = await WaitForOutcomesAsync(run, TimeSpan.FromMinutes(10));
        if (unresolved > 0)
        {
            violations.Add($"{unresolved} accepted purchases have no outcome after 10 minutes");
        }

        var accepted = run.AcceptedPurchases.Distinct().ToArray();
        var outcomes = (await target.QueryAsync(
            "SELECT p.\"Id\", p.\"Status\", o.\"Id\" IS NOT NULL FROM \"Purchases\" p LEFT JOIN \"Orders\" o ON o.\"Id\" = p.\"Id\" WHERE p.\"Id\" = ANY($1) AND p.\"Status\" <> 'Pending'",
            r => (Id: r.GetGuid(0), Status: r.GetString(1), HasOrder: r.GetBoolean(2)), accepted)).ToDictionary(o => o.Id);
        var inconsistent = outcomes.Values.Count(o => (o.Status == "Confirmed") != o.HasOrder);
        if (inconsistent > 0)
        {
            violations.Add($"{inconsistent} purchases whose outcome disagrees with their order");
        }

        // Refunds of failed purchases may still be on their way.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        long pending;
        while ((pending = await target.ScalarAsync("SELECT count(*) FROM \"Payments\" WHERE \"Status\" = 'RefundPending'")) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
        }

        if (pending > 0)
        {
            violations.Add($"{pending} refunds still pending after 2 minutes");
        }

        var charges = (await target.PaymentsHttp.GetFromJsonAsync<JsonArray>("/simulator/charges"))!
            .Select(c => c!).ToDictionary(c => Guid.Parse((string)c["paymentKey"]!));
        var chargedTwice = 0;
        var chargedWithoutTicket = 0;
        var confirmedUncharged = 0;
        foreach (var (purchase, outcome) in outcomes)
        {
            if (charges.TryGetValue(purchase, out var charge))
            {
                chargedTwice += (int)charge["timesCharged"]! > 1 ? 1 : 0;
                var captured = (string)charge["status"]! == "captured";
                chargedWithoutTicket += captured && outcome.Status != "Confirmed" ? 1 : 0;
                confirmedUncharged += !captured && outcome.Status == "Confirmed" ? 1 : 0;
            }
            else
            {
                confirmedUncharged += outcome.Status == "Confirmed" ? 1 : 0;
            }
        }

        // From the gateway's side: every capture of a TicketSale purchase in its ledger belongs to a confirmed purchase,
        // whether or not the bench saw the purchase accepted (an answer lost to a crash) and whether or not PostgreSQL ever
        // heard of it. TicketSale's purchase ids are UUIDv8 (PurchaseIds); the SELECT … FOR UPDATE baseline charges the
        // same gateway under its own order ids (UUIDv7), which are its business.
        var captures = charges.Where(c => (string)c.Value["status"]! == "captured" && c.Key.Version == 8).Select(c => c.Key).ToArray();
        var confirmedCaptures = captures.Length == 0 ? 0
            : await target.ScalarAsync("SELECT count(*) FROM \"Purchases\" WHERE \"Id\" = ANY($1) AND \"Status\" = 'Confirmed'", captures);
        if (confirmedCaptures < captures.Length)
        {
            violations.Add($"{captures.Length - confirmedCaptures} captures at the payment gateway without a confirmed purchase");
        }

        if (chargedTwice > 0)
        {
            violations.Add($"{chargedTwice} purchases charged more than once");
        }

        if (chargedWithoutTicket > 0)
        {
            violations.Add($"{chargedWithoutTicket} purchases charged but not confirmed");
        }

        if (confirmedUncharged > 0)
        {
            violations.Add($"{confirmedUncharged} purchases confirmed without a captured charge");
        }

        if (run.BaselineCampaigns.Count > 0)
        {
            var baselineOverSold = await target.ScalarAsync(
                "SELECT count(*) FROM baseline.general_admission g WHERE g.sold > g.capacity OR g.sold <> (SELECT count(*) FROM baseline.tickets t WHERE t.general_admission_id = g.id)");
            var baselineDoubleSold = await target.ScalarAsync(
                "SELECT count(*) FROM (SELECT 1 FROM baseline.tickets t JOIN baseline.orders o ON o.id = t.order_id WHERE t.seat IS NOT NULL GROUP BY o.campaign_id, t.seat HAVING count(*) > 1) d");
            if (baselineOverSold + baselineDoubleSold > 0)
            {
                violations.Add($"the SELECT … FOR UPDATE baseline oversold: {baselineOverSold} categories, {baselineDoubleSold} seats");
            }
        }

        run.Figures["invariants"] = new Dictionary<string, object>
        {
            ["campaigns"] = campaigns.Length,
            ["acceptedPurchases"] = accepted.Length,
            ["confirmed"] = outcomes.Values.Count(o => o.Status == "Confirmed"),
            ["failed"] = outcomes.Values.Count(o => o.Status == "Failed"),
            ["violations"] = violations,
        };
        return violations;
    }
}
