using System.Globalization;
using System.Text;
using Aspire.Hosting.Testing;
using Npgsql;

namespace Mesh.Load;

/// <summary>
/// What PostgreSQL is asked to do per purchase: commits and rows written per database
/// (pg_stat_database), WAL flushes (pg_stat_wal), and the statements that cost the most (pg_stat_statements).
/// </summary>
public static class DatabaseCounters
{
    public sealed record Counts(long Commits, long Inserted, long Updated, long Returned);

    private const int StatementsShown = 15;

    public static async Task<Dictionary<string, Counts>> SnapshotAsync(BenchmarkPlatform platform)
    {
        await using var connection = await OpenAsync(platform);
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

    /// <summary>The server's WAL counters (pg_stat_wal, every database): flushes to disk, writes and bytes.</summary>
    public sealed record Wal(long Syncs, long Writes, decimal Bytes);

    public static async Task<Wal> WalAsync(BenchmarkPlatform platform)
    {
        await using var connection = await OpenAsync(platform);
        await using var read = new NpgsqlCommand("SELECT wal_sync, wal_write, wal_bytes FROM pg_stat_wal", connection);
        await using var row = await read.ExecuteReaderAsync();
        await row.ReadAsync();
        return new Wal(row.GetInt64(0), row.GetInt64(1), row.GetDecimal(2));
    }

    public static string PerPurchase(Wal before, Wal after, long purchases)
    {
        var per = Math.Max(1, purchases);
        return string.Create(CultureInfo.InvariantCulture,
            $"WAL per purchase: {(double)(after.Syncs - before.Syncs) / per:F2} flushes to disk, {(double)(after.Writes - before.Writes) / per:F2} writes, {(after.Bytes - before.Bytes) / per:F0} bytes");
    }

    public static string PerPurchase(Dictionary<string, Counts> before, Dictionary<string, Counts> after, long purchases) =>
        string.Join(", ", after.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p =>
        {
            var b = before.GetValueOrDefault(p.Key) ?? new Counts(0, 0, 0, 0);
            double Per(long value) => (double)value / Math.Max(1, purchases);
            return $"{p.Key} {Per(p.Value.Commits - b.Commits):F1} commits {Per(p.Value.Inserted - b.Inserted):F1} ins {Per(p.Value.Updated - b.Updated):F1} upd";
        }));

    /// <summary>A gatewaydb table's updates: all, and those PostgreSQL kept on the row's page without touching its indexes (HOT).</summary>
    public sealed record TableUpdates(long Updated, long Hot);

    public static async Task<Dictionary<string, TableUpdates>> GatewayUpdatesAsync(BenchmarkPlatform platform)
    {
        await using var connection = await OpenAsync(platform);
        await using var read = new NpgsqlCommand("SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables", connection);
        await using var row = await read.ExecuteReaderAsync();
        var updates = new Dictionary<string, TableUpdates>(StringComparer.Ordinal);
        while (await row.ReadAsync())
        {
            updates[row.GetString(0)] = new TableUpdates(row.GetInt64(1), row.GetInt64(2));
        }
        return updates;
    }

    /// <summary>The gateway's most updated tables: updates per purchase, and the share that were HOT.</summary>
    public static string PerPurchase(Dictionary<string, TableUpdates> before, Dictionary<string, TableUpdates> after, long purchases)
    {
        var per = (double)Math.Max(1, purchases);
        var tables = after
            .Select(p => (Table: p.Key, Was: before.GetValueOrDefault(p.Key) ?? new TableUpdates(0, 0), Now: p.Value))
            .Select(t => (t.Table, Updated: t.Now.Updated - t.Was.Updated, Hot: t.Now.Hot - t.Was.Hot))
            .Where(t => t.Updated > 0)
            .OrderByDescending(t => t.Updated)
            .Take(6);
        return "gatewaydb updates per purchase (HOT share): "
            + string.Join(", ", tables.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Table} {t.Updated / per:F2} ({100.0 * t.Hot / t.Updated:F0}% HOT)")));
    }

    /// <summary>The server's checkpoints so far (pg_stat_bgwriter): on its timer, and asked for (CHECKPOINT, or WAL past max_wal_size).</summary>
    public sealed record Checkpoints(long Timed, long Requested);

    public static async Task<Checkpoints> CheckpointsAsync(BenchmarkPlatform platform)
    {
        await using var connection = await OpenAsync(platform);
        await using var read = new NpgsqlCommand("SELECT checkpoints_timed, checkpoints_req FROM pg_stat_bgwriter", connection);
        await using var row = await read.ExecuteReaderAsync();
        await row.ReadAsync();
        return new Checkpoints(row.GetInt64(0), row.GetInt64(1));
    }

    /// <summary>
    /// After <paramref name="delay"/>, a CHECKPOINT (the platform's user must be the superuser: the
    /// gatewaydb connection string's is), so the measured window pays for writing every dirty page
    /// as a server running for hours does; returns how long it took.
    /// </summary>
    public static async Task<TimeSpan> CheckpointAfterAsync(BenchmarkPlatform platform, TimeSpan delay)
    {
        await Task.Delay(delay);
        await using var connection = await OpenAsync(platform);
        await using (var superuser = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", connection))
        {
            if (await superuser.ExecuteScalarAsync() is not true)
            {
                throw new InvalidOperationException($"{connection.UserName} is not the superuser: CHECKPOINT needs it");
            }
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection) { CommandTimeout = 0 };
        await checkpoint.ExecuteNonQueryAsync();
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    public static string InWindow(Checkpoints before, Checkpoints after, TimeSpan issuedAt, TimeSpan took) =>
        string.Create(CultureInfo.InvariantCulture,
            $"checkpoints in the window: {after.Timed + after.Requested - before.Timed - before.Requested} ({after.Timed - before.Timed} timed, {after.Requested - before.Requested} requested); "
            + $"CHECKPOINT issued at {issuedAt.TotalSeconds:F0} s as the superuser took {took.TotalMilliseconds:F0} ms");

    /// <summary>Starts counting statements from zero (the server loads pg_stat_statements; the extension is created here).</summary>
    public static async Task ResetStatementsAsync(BenchmarkPlatform platform)
    {
        await using var connection = await OpenAsync(platform);
        await using var reset = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()", connection);
        await reset.ExecuteNonQueryAsync();
    }

    /// <summary>The statements with the most execution time since the reset: calls and time per purchase, by database.</summary>
    public static async Task<string> TopStatementsAsync(BenchmarkPlatform platform, long purchases)
    {
        await using var connection = await OpenAsync(platform);
        await using var read = new NpgsqlCommand(
            """
            SELECT d.datname, s.calls, s.total_exec_time, s.query,
                   sum(s.calls) OVER (), sum(s.total_exec_time) OVER ()
            FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE d.datname LIKE '%db'
            ORDER BY s.total_exec_time DESC LIMIT $1
            """, connection);
        read.Parameters.AddWithValue(StatementsShown);
        await using var row = await read.ExecuteReaderAsync();
        var table = new StringBuilder();
        var per = Math.Max(1, purchases);
        while (await row.ReadAsync())
        {
            if (table.Length == 0)
            {
                table.AppendLine(CultureInfo.InvariantCulture,
                    $"statements per purchase: {row.GetDecimal(4) / per:F1}, execution {row.GetDouble(5) * 1000 / per:F0} µs (top {StatementsShown} by time):");
            }
            var query = string.Join(' ', row.GetString(3).Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
            table.AppendLine(CultureInfo.InvariantCulture,
                $"  {row.GetString(0),-13} {(double)row.GetInt64(1) / per,5:F2} calls {row.GetDouble(2) * 1000 / per,6:F0} µs  {query[..Math.Min(query.Length, 110)]}");
        }
        return table.ToString();
    }

    private static async Task<NpgsqlConnection> OpenAsync(BenchmarkPlatform platform)
    {
        var connection = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("gatewaydb"));
        await connection.OpenAsync();
        return connection;
    }
}
