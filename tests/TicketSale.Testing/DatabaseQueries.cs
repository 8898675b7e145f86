using Npgsql;

namespace TicketSale.Testing;

/// <summary>Reads PostgreSQL directly, as tests and the bench inspect what the system wrote.</summary>
public static class DatabaseQueries
{
    public static async Task<List<T>> QueryAsync<T>(string connectionString, string sql, Func<NpgsqlDataReader, T> read, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // Generous: the bench's checks read millions of rows of a run.
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        foreach (var p in parameters)
        {
            command.Parameters.AddWithValue(p);
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>The first column of the first row as a number; 0 for no row or a null.</summary>
    public static async Task<long> ScalarAsync(string connectionString, string sql, params object[] parameters) =>
        (await QueryAsync(connectionString, sql, r => r.IsDBNull(0) ? 0L : Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), parameters))
            .FirstOrDefault();
}
