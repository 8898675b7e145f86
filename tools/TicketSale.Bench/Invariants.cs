using TicketSale.Testing;

namespace TicketSale.Bench;

/// <summary>
/// The invariants of docs/architecture.md over everything the run sold. Violations are listed, never thrown: the run
/// reports them all.
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

    /// <summary>
    /// The sale's invariants over everything the run sold (<see cref="SaleInvariants"/>, the tests' check), once the
    /// Worker has decided what it can (up to 10 minutes), and that the SELECT … FOR UPDATE baseline sold nothing twice.
    /// </summary>
    public static async Task<List<string>> CheckAsync(BenchRun run)
    {
        var target = run.Target;
        await WaitForOutcomesAsync(run, TimeSpan.FromMinutes(10));
        using var site = new HttpClient { BaseAddress = target.Web };
        var report = await new SaleInvariants(target.Postgres, site, target.PaymentsHttp)
            .CheckAsync(run.Campaigns.Select(c => new CheckedCampaign(c.Id, c.Seats)).ToList(), run.AcceptedPurchases, TimeSpan.FromMinutes(2));
        var violations = report.Violations.ToList();
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

        run.Figures["invariants"] = new InvariantFigures(run.Campaigns.Count, report.Accepted, report.Confirmed, report.Failed, violations);
        return violations;
    }
}

/// <summary>What the invariant check of a run looked at and found.</summary>
public sealed record InvariantFigures(int Campaigns, int AcceptedPurchases, int Confirmed, int Failed, IReadOnlyList<string> Violations);
