using System.Globalization;
using System.Net;
using Npgsql;
using StackExchange.Redis;
using TicketSale.Bench.Load;
using TicketSale.Bench.Reporting;
using TicketSale.Bench.Scenarios;
using TicketSale.Core.Inventory;

namespace TicketSale.Bench.Baselines;

/// <summary>
/// What this machine can do at all, measured by the servers' own load tools: Redis running the hold script
/// (<c>redis-benchmark</c>) and PostgreSQL committing single-row inserts (<c>pgbench</c>).
/// </summary>
public static class MachineLimits
{
    public static async Task RedisHoldScriptAsync(BenchRun run)
    {
        if (!ExternalTool.Exists("redis-benchmark"))
        {
            run.Notes.Add("redis-benchmark is not installed: the Redis baseline was not measured.");
            return;
        }

        // A campaign loaded into Redis by one real hold, so the script takes its full path.
        var campaign = await run.Target.NewCampaignAsync("redis-benchmark", rows: 0, generalAdmission: 1_000_000, perUserLimit: 50, holdSeconds: 1200);
        run.Campaigns.Add(campaign);
        using (var http = BenchTarget.NewClient(1))
        {
            var (status, body) = await SaleRequests.SendAsync(http, SaleRequests.Post(run.Target.Apis[0], $"/api/campaigns/{campaign.Id}/holds",
                Buyer.Mint(run.Target, TimeSpan.FromMinutes(5)).Authorization, SaleRequests.GeneralAdmissionHoldBody(campaign.GeneralAdmissionId!.Value, 1)), CancellationToken.None);
            body?.Dispose();
            if (status != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"The hold that loads the redis-benchmark campaign answered {(int)status}.");
            }
        }

        var parts = run.Target.Redis.Split(',');
        var (host, port) = (parts[0].Split(':')[0], parts[0].Split(':')[1]);
        var password = parts.Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("password=", StringComparison.Ordinal))?["password=".Length..];
        using var redis = await ConnectionMultiplexer.ConnectAsync(run.Target.Redis);
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var sha = Convert.ToHexStringLower(await server.ScriptLoadAsync(SeatInventory.HoldScript));
        var results = new List<RedisBenchmarkFigures>();
        foreach (var connections in run.Options.Connections)
        {
            var requests = Math.Max(20_000, (int)(run.Options.HotPathDuration.TotalSeconds * 30_000));
            var bar = run.Phase($"redis-benchmark · hold script ({connections} conns)", 1);
            var arguments = new List<string> { "-h", host, "-p", port, "-c", connections.ToString(CultureInfo.InvariantCulture), "-n", requests.ToString(CultureInfo.InvariantCulture), "-r", "1000000000", "--csv" };
            if (password is not null)
            {
                arguments.AddRange(["-a", password]);
            }

            // The arguments the Api passes: hold id, user, ttl, per-user limit, category, quantity, no waiting room, then
            // two rate-limit buckets.
            arguments.AddRange(["EVALSHA", sha, "1", SeatInventory.Prefix(campaign.Id), "hold__rand_int__", "user__rand_int__", "1200000", "50",
                campaign.GeneralAdmissionId!.Value.ToString("N"), "1", "0", "2", "u:user__rand_int__", "1000000", "1000000", "ip:127.0.0.1", "1000000", "1000000"]);
            var output = await ExternalTool.RunAsync("redis-benchmark", arguments, TimeSpan.FromMinutes(5), new Dictionary<string, string> { ["REDISCLI_AUTH"] = password ?? "" });
            var row = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().Split(',').Select(c => c.Trim('"')).ToArray();
            results.Add(new RedisBenchmarkFigures(connections, requests, double.Parse(row[1], CultureInfo.InvariantCulture),
                double.Parse(row[4], CultureInfo.InvariantCulture), double.Parse(row[6], CultureInfo.InvariantCulture)));
            bar.Value = 1;
        }

        run.Figures["redisBenchmarkHoldScript"] = results;
    }

    public static async Task PostgresInsertsAsync(BenchRun run)
    {
        if (!ExternalTool.Exists("pgbench"))
        {
            run.Notes.Add("pgbench is not installed: the PostgreSQL baseline was not measured.");
            return;
        }

        var connection = new NpgsqlConnectionStringBuilder(run.Target.Postgres);
        await using (var db = new NpgsqlConnection(run.Target.Postgres))
        {
            await db.OpenAsync();
            await using var create = new NpgsqlCommand(
                "CREATE SCHEMA IF NOT EXISTS baseline; CREATE TABLE IF NOT EXISTS baseline.inserts (id bigserial PRIMARY KEY, payload bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())", db);
            await create.ExecuteNonQueryAsync();
        }

        var script = Path.Combine(Path.GetTempPath(), $"pgbench-{Guid.NewGuid():N}.sql");
        await File.WriteAllTextAsync(script, "\\set payload random(1, 1000000000)\nINSERT INTO baseline.inserts (payload) VALUES (:payload);\n");
        var results = new List<PgbenchFigures>();
        try
        {
            // PostgreSQL's connections are shared with the services' pools: pgbench gets at most what is free, and the
            // report says how many it had.
            foreach (var requested in run.Options.Connections.Where(c => c <= 256))
            {
                var clients = (int)Math.Min(requested, await run.Target.ScalarAsync(
                    "SELECT current_setting('max_connections')::int - count(*) - 10 FROM pg_stat_activity"));
                var bar = run.Phase($"pgbench · single-row inserts ({clients} conns)", 1);
                var output = await ExternalTool.RunAsync("pgbench",
                    ["-h", connection.Host!, "-p", connection.Port.ToString(CultureInfo.InvariantCulture), "-U", connection.Username!, "-n",
                     "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", ((int)run.Options.HotPathDuration.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                     "-f", script, connection.Database!],
                    run.Options.HotPathDuration + TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["PGPASSWORD"] = connection.Password ?? "" });
                double Read(string pattern) => System.Text.RegularExpressions.Regex.Match(output, pattern) is { Success: true } m
                    ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
                results.Add(new PgbenchFigures(clients, Read(@"tps = ([\d.]+)"), Read(@"latency average = ([\d.]+) ms")));
                bar.Value = 1;
            }
        }
        finally
        {
            File.Delete(script);
        }

        run.Figures["pgbenchSingleRowInserts"] = results;
    }
}
