using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace TicketSale.Bench.Baselines;

/// <summary>
/// The bench's own server, run as a child process so that it competes for the machine as the Api does:
/// <list type="bullet">
/// <item><c>POST /empty</c>: an empty Kestrel endpoint, the ceiling of any HTTP endpoint here;</item>
/// <item><c>POST /baseline/campaigns/{id}/purchases</c>: the design a team might pick instead of ours — a synchronous
/// purchase in one PostgreSQL transaction that locks the seats (or the general-admission row) with
/// <c>SELECT … FOR UPDATE</c>, charges the card while holding the locks, writes the order and commits;</item>
/// <item><c>GET /metrics</c>: the one figure of the runtime's the bench reads, its JIT time, so that the baseline is
/// measured warm as the Api is (<see cref="Load.JitWarmUp"/>).</item>
/// </list>
/// No authentication and no rate limiting: every advantage goes to the baseline.
/// </summary>
public static class ForUpdateServer
{
    public const string Schema = """
        CREATE SCHEMA IF NOT EXISTS baseline;
        CREATE TABLE IF NOT EXISTS baseline.seats (campaign_id uuid NOT NULL, seat int NOT NULL, order_id uuid, PRIMARY KEY (campaign_id, seat));
        CREATE TABLE IF NOT EXISTS baseline.general_admission (id uuid PRIMARY KEY, capacity int NOT NULL, sold int NOT NULL DEFAULT 0, CHECK (sold <= capacity));
        CREATE TABLE IF NOT EXISTS baseline.orders (id uuid PRIMARY KEY, campaign_id uuid NOT NULL, user_id uuid NOT NULL, total_cents bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS baseline.tickets (id bigserial PRIMARY KEY, order_id uuid NOT NULL REFERENCES baseline.orders, seat int, general_admission_id uuid);
        """;

    public static async Task<int> ServeAsync(int port, string postgres, Uri payments)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddSingleton(new NpgsqlDataSourceBuilder(postgres + ";Maximum Pool Size=64").Build());
        builder.Services.AddHttpClient("payments", c =>
        {
            c.BaseAddress = payments;
            c.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Environment.GetEnvironmentVariable("Payments__ApiKey"));
        });
        var app = builder.Build();
        app.MapPost("/empty", () => TypedResults.Ok());
        app.MapPost("/baseline/campaigns/{campaignId:guid}/purchases", PurchaseAsync);
        app.MapGet("/metrics", () => string.Create(CultureInfo.InvariantCulture,
            $"dotnet_jit_compilation_time_seconds_total {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds}\n"));
        // The bench holds this process's stdin open: end of input means the bench is gone (even killed), so stop too.
        _ = Task.Run(async () =>
        {
            await Console.In.ReadToEndAsync();
            await app.StopAsync();
        });
        await app.RunAsync();
        return 0;
    }

    private static async Task<IResult> PurchaseAsync(Guid campaignId, BaselinePurchase request, HttpRequest http, NpgsqlDataSource db, IHttpClientFactory clients)
    {
        var userId = Guid.TryParse(http.Headers["X-User"], out var user) ? user : Guid.NewGuid();
        var seats = request.Seats ?? [];
        var orderId = Guid.CreateVersion7();
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        long amount;
        if (seats.Length > 0)
        {
            await using var lockSeats = new NpgsqlCommand(
                "SELECT seat, order_id FROM baseline.seats WHERE campaign_id = $1 AND seat = ANY($2) ORDER BY seat FOR UPDATE", connection, transaction);
            lockSeats.Parameters.AddWithValue(campaignId);
            lockSeats.Parameters.AddWithValue(seats);
            var taken = new List<int>();
            var found = 0;
            await using (var reader = await lockSeats.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    found++;
                    if (!reader.IsDBNull(1))
                    {
                        taken.Add(reader.GetInt32(0));
                    }
                }
            }

            if (found != seats.Length || taken.Count > 0)
            {
                return TypedResults.Conflict(new { takenSeats = taken });
            }

            amount = 4200L * seats.Length;
        }
        else
        {
            await using var lockCategory = new NpgsqlCommand(
                "SELECT capacity - sold FROM baseline.general_admission WHERE id = $1 FOR UPDATE", connection, transaction);
            lockCategory.Parameters.AddWithValue(request.GeneralAdmissionCategoryId ?? Guid.Empty);
            if (await lockCategory.ExecuteScalarAsync() is not int left || left < request.Quantity)
            {
                return TypedResults.Conflict(new { soldOut = true });
            }

            amount = 1500L * request.Quantity;
        }

        // The charge, while the rows stay locked: what makes this design simple, and what makes it slow.
        using (var charge = await clients.CreateClient("payments").PostAsJsonAsync("/payments", new { paymentKey = orderId, amountCents = amount }))
        {
            if (!charge.IsSuccessStatusCode)
            {
                return TypedResults.StatusCode(StatusCodes.Status402PaymentRequired);
            }
        }

        await using (var order = new NpgsqlCommand("INSERT INTO baseline.orders (id, campaign_id, user_id, total_cents) VALUES ($1, $2, $3, $4)", connection, transaction))
        {
            order.Parameters.AddWithValue(orderId);
            order.Parameters.AddWithValue(campaignId);
            order.Parameters.AddWithValue(userId);
            order.Parameters.AddWithValue(amount);
            await order.ExecuteNonQueryAsync();
        }

        var (update, tickets) = seats.Length > 0
            ? ("UPDATE baseline.seats SET order_id = $1 WHERE campaign_id = $2 AND seat = ANY($3)",
               "INSERT INTO baseline.tickets (order_id, seat) SELECT $1, unnest($3)")
            : ("UPDATE baseline.general_admission SET sold = sold + $4 WHERE id = $5",
               "INSERT INTO baseline.tickets (order_id, general_admission_id) SELECT $1, $5 FROM generate_series(1, $4)");
        foreach (var sql in new[] { update, tickets })
        {
            await using var sell = new NpgsqlCommand(sql, connection, transaction);
            sell.Parameters.AddWithValue(orderId);
            sell.Parameters.AddWithValue(campaignId);
            sell.Parameters.Add(new NpgsqlParameter { Value = seats, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
            sell.Parameters.AddWithValue(request.Quantity);
            sell.Parameters.AddWithValue(request.GeneralAdmissionCategoryId ?? Guid.Empty);
            await sell.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return TypedResults.Created($"/baseline/orders/{orderId}", new { orderId });
    }

    /// <summary>The same stock as a campaign of ours, in the baseline's tables.</summary>
    public static async Task CreateCampaignAsync(string postgres, Guid campaignId, int seats, Guid? generalAdmissionId, int capacity)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(Schema + """
            INSERT INTO baseline.seats (campaign_id, seat) SELECT @campaign, s FROM generate_series(0, @seats - 1) s;
            INSERT INTO baseline.general_admission (id, capacity) SELECT @ga, @capacity WHERE @capacity > 0;
            """, connection);
        command.Parameters.AddWithValue("campaign", campaignId);
        command.Parameters.AddWithValue("seats", seats);
        command.Parameters.AddWithValue("ga", generalAdmissionId ?? Guid.NewGuid());
        command.Parameters.AddWithValue("capacity", capacity);
        await command.ExecuteNonQueryAsync();
    }
}

public sealed record BaselinePurchase(int[]? Seats, Guid? GeneralAdmissionCategoryId, int Quantity);
