using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace TicketSale.Testing;

/// <summary>A campaign whose sale is checked: its id and its venue's seat count (0 for general admission only).</summary>
public sealed record CheckedCampaign(Guid Id, int Seats);

/// <summary>What the check found: every violation, and the purchases it looked at.</summary>
public sealed record InvariantReport(IReadOnlyList<string> Violations, int Accepted, int Confirmed, int Failed);

/// <summary>
/// The sale's invariants (docs/architecture.md), the one check the tests assert and the bench reports: no seat sold
/// twice; general admission sold within its capacity, its counter equal to its tickets; every accepted purchase decided,
/// confirmed exactly when it has an order; nobody charged twice, charged without a ticket, or given a ticket without
/// a charge; every capture at the payment gateway a confirmed purchase; every sold seat shown taken by Redis (through
/// the gateway's seat map). Reads PostgreSQL (waiting while it comes back from a crash), the seat maps and the payment
/// gateway's ledger; lists every violation instead of stopping at the first.
/// </summary>
/// <param name="site">A client of the gateway (its address as base address).</param>
/// <param name="payments">A client of the payment gateway's own API, with its key.</param>
public sealed class SaleInvariants(string database, HttpClient site, HttpClient payments)
{
    /// <param name="settle">How long purchases, refunds and captures still on their way get to be decided.</param>
    public async Task<InvariantReport> CheckAsync(IReadOnlyCollection<CheckedCampaign> campaigns, IEnumerable<Guid> acceptedPurchases, TimeSpan settle)
    {
        var violations = new List<string>();
        var deadline = DateTime.UtcNow + settle;
        var ids = campaigns.Select(c => c.Id).ToArray();

        var doubleSold = await ScalarAsync(
            "SELECT count(*) FROM (SELECT 1 FROM \"Tickets\" WHERE \"CampaignId\" = ANY($1) AND \"Active\" AND \"SeatIndex\" IS NOT NULL GROUP BY \"CampaignId\", \"SeatIndex\" HAVING count(*) > 1) d",
            deadline, ids);
        if (doubleSold > 0)
        {
            violations.Add($"{doubleSold} seats sold more than once");
        }

        var generalAdmission = await QueryAsync(
            "SELECT g.\"Id\", g.\"Capacity\", g.\"Sold\", (SELECT count(*) FROM \"Tickets\" t WHERE t.\"GeneralAdmissionCategoryId\" = g.\"Id\" AND t.\"Active\") FROM \"GeneralAdmissionCategories\" g WHERE g.\"CampaignId\" = ANY($1)",
            r => (Id: r.GetGuid(0), Capacity: r.GetInt32(1), Sold: r.GetInt32(2), Tickets: r.GetInt64(3)), deadline, ids);
        foreach (var g in generalAdmission.Where(g => g.Sold < 0 || g.Sold > g.Capacity || g.Sold != g.Tickets))
        {
            violations.Add($"general admission {g.Id}: capacity {g.Capacity}, counter {g.Sold}, tickets {g.Tickets}");
        }

        foreach (var campaign in campaigns.Where(c => c.Seats > 0))
        {
            var sold = await QueryAsync("SELECT \"SeatIndex\" FROM \"Tickets\" WHERE \"CampaignId\" = $1 AND \"Active\" AND \"SeatIndex\" IS NOT NULL",
                r => r.GetInt32(0), deadline, campaign.Id);
            if (sold.Count > campaign.Seats || sold.Any(s => s < 0 || s >= campaign.Seats))
            {
                violations.Add($"campaign {campaign.Id}: {sold.Count} seats sold of {campaign.Seats}");
            }

            var map = await site.GetFromJsonAsync<JsonObject>($"/api/campaigns/{campaign.Id}/seats");
            var taken = Convert.FromBase64String((string)map!["taken"]!);
            var shownFree = sold.Count(s => s / 8 >= taken.Length || (taken[s / 8] & (0x80 >> (s % 8))) == 0);
            if (shownFree > 0)
            {
                violations.Add($"campaign {campaign.Id}: {shownFree} sold seats shown as free by Redis");
            }
        }

        var accepted = acceptedPurchases.Distinct().ToArray();
        const string Decided = "SELECT p.\"Id\", p.\"Status\", o.\"Id\" IS NOT NULL, o.\"Status\" = 'Cancelled' FROM \"Purchases\" p LEFT JOIN \"Orders\" o ON o.\"Id\" = p.\"Id\" WHERE p.\"Id\" = ANY($1) AND p.\"Status\" <> 'Pending'";
        List<(Guid Id, string Status, bool HasOrder, bool Cancelled)> outcomes;
        while ((outcomes = await QueryAsync(Decided, r => (r.GetGuid(0), r.GetString(1), r.GetBoolean(2), !r.IsDBNull(3) && r.GetBoolean(3)), deadline, accepted)).Count < accepted.Length
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        if (outcomes.Count < accepted.Length)
        {
            violations.Add($"{accepted.Length - outcomes.Count} of {accepted.Length} accepted purchases have no outcome after {settle}");
        }

        var disagreeing = outcomes.Count(o => (o.Status == "Confirmed") != o.HasOrder);
        if (disagreeing > 0)
        {
            violations.Add($"{disagreeing} purchases whose outcome disagrees with their order");
        }

        if (await PendingRefundsAsync(deadline) is > 0 and var pending)
        {
            violations.Add($"{pending} refunds still pending after {settle}");
        }

        var charges = await ChargesAsync();
        int chargedTwice = 0, chargedWithoutTicket = 0, confirmedUncharged = 0, cancelledUnrefunded = 0;
        foreach (var (purchase, status, _, cancelled) in outcomes)
        {
            var (captured, refunded) = (false, false);
            if (charges.TryGetValue(purchase, out var charge))
            {
                chargedTwice += (int)charge["timesCharged"]! > 1 ? 1 : 0;
                captured = (string)charge["status"]! == "captured";
                refunded = (string)charge["status"]! == "refunded";
            }

            // A confirmed order the buyer cancelled keeps its purchase confirmed: its charge is refunded instead.
            chargedWithoutTicket += captured && (status != "Confirmed" || cancelled) ? 1 : 0;
            confirmedUncharged += !captured && status == "Confirmed" && !cancelled ? 1 : 0;
            cancelledUnrefunded += cancelled && !refunded ? 1 : 0;
        }

        foreach (var (count, what) in new[] { (chargedTwice, "charged more than once"), (chargedWithoutTicket, "charged but not confirmed"), (confirmedUncharged, "confirmed without a captured charge"),
            (cancelledUnrefunded, "cancelled without a refund") })
        {
            if (count > 0)
            {
                violations.Add($"{count} purchases {what}");
            }
        }

        if ((await CapturesWithoutConfirmedPurchaseAsync(deadline)) is { Count: > 0 } unmatched)
        {
            violations.Add($"{unmatched.Count} captures at the payment gateway without a confirmed purchase: {string.Join(", ", unmatched.Take(10))}");
        }

        return new InvariantReport(violations, accepted.Length, outcomes.Count(o => o.Status == "Confirmed"), outcomes.Count(o => o.Status == "Failed"));
    }

    /// <summary>
    /// Read from the gateway's side: the captures in its ledger that belong to no confirmed purchase — whether or not
    /// anyone saw the purchase accepted (an answer lost to a crash), and whether or not PostgreSQL ever heard of it.
    /// Captures still being decided (their purchase pending, or not yet written) get until <paramref name="deadline"/>.
    /// TicketSale's purchase ids are UUIDv8 (PurchaseIds); others (the bench's SELECT … FOR UPDATE baseline charges
    /// the same gateway under its own order ids) are not TicketSale's.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> CapturesWithoutConfirmedPurchaseAsync(DateTime deadline)
    {
        while (true)
        {
            var captured = (await ChargesAsync()).Where(c => (string)c.Value["status"]! == "captured" && c.Key.Version == 8).Select(c => c.Key).ToArray();
            var confirmed = (await QueryAsync("SELECT \"Id\" FROM \"Purchases\" WHERE \"Id\" = ANY($1) AND \"Status\" = 'Confirmed'", r => r.GetGuid(0), deadline, captured))
                .ToHashSet();
            var unmatched = captured.Where(c => !confirmed.Contains(c)).ToList();
            if (unmatched.Count == 0 || DateTime.UtcNow >= deadline)
            {
                return unmatched;
            }

            await Task.Delay(500);
        }
    }

    /// <summary>Refunds of failed or cancelled purchases not yet through, once they had until <paramref name="deadline"/>.</summary>
    public async Task<long> PendingRefundsAsync(DateTime deadline)
    {
        long pending;
        while ((pending = await ScalarAsync("SELECT count(*) FROM \"Payments\" WHERE \"Status\" = 'RefundPending'", deadline)) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        return pending;
    }

    private async Task<Dictionary<Guid, JsonNode>> ChargesAsync() =>
        (await payments.GetFromJsonAsync<JsonArray>("/simulator/charges"))!.Select(c => c!).ToDictionary(c => Guid.Parse((string)c["paymentKey"]!));

    private async Task<long> ScalarAsync(string sql, DateTime deadline, params object[] parameters) =>
        (await QueryAsync(sql, r => r.IsDBNull(0) ? 0L : Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), deadline, parameters)).FirstOrDefault();

    /// <summary>A query; while PostgreSQL is down (a test or the chaos scenario crashed it; the AppHost restarts it) it is asked again until the deadline.</summary>
    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, DateTime deadline, params object[] parameters)
    {
        while (true)
        {
            try
            {
                return await DatabaseQueries.QueryAsync(database, sql, read, parameters);
            }
            catch (NpgsqlException ex) when (ex.IsTransient && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
