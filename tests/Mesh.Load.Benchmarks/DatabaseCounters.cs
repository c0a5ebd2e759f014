using Aspire.Hosting.Testing;
using Mesh.Benchmarks;
using Npgsql;

namespace Mesh.Load;

/// <summary>Commits and rows written per database, from pg_stat_database: what PostgreSQL is asked to do per purchase.</summary>
public static class DatabaseCounters
{
    public sealed record Counts(long Commits, long Inserted, long Updated, long Returned);

    public static async Task<Dictionary<string, Counts>> SnapshotAsync(BenchmarkPlatform platform)
    {
        await using var connection = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("gatewaydb"));
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand(
            "SELECT datname, xact_commit, tup_inserted, tup_updated, tup_returned FROM pg_stat_database WHERE datname LIKE '%db'", connection);
        await using var row = await read.ExecuteReaderAsync();
        var counts = new Dictionary<string, Counts>(StringComparer.Ordinal);
        while (await row.ReadAsync())
        {
            counts[row.GetString(0)] = new Counts(row.GetInt64(1), row.GetInt64(2), row.GetInt64(3), row.GetInt64(4));
        }
        return counts;
    }

    public static string PerPurchase(Dictionary<string, Counts> before, Dictionary<string, Counts> after, long purchases) =>
        string.Join(", ", after.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p =>
        {
            var b = before.GetValueOrDefault(p.Key) ?? new Counts(0, 0, 0, 0);
            double Per(long value) => (double)value / Math.Max(1, purchases);
            return $"{p.Key} {Per(p.Value.Commits - b.Commits):F1} commits {Per(p.Value.Inserted - b.Inserted):F1} ins {Per(p.Value.Updated - b.Updated):F1} upd";
        }));
}
