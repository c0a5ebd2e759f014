using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.ServiceDefaults.Background;

/// <summary>When a queue's earliest work falls due, read from its table, for a worker's <see cref="NextRound"/>.</summary>
public static class DueTimes
{
    /// <summary>Runs <paramref name="earliestSql"/>, which answers one timestamptz (null when nothing waits), with positional parameters.</summary>
    public static async Task<DateTimeOffset?> EarliestAsync(NpgsqlDataSource db, string earliestSql, CancellationToken ct, params object?[] values)
    {
        ArgumentNullException.ThrowIfNull(db);
        await using var earliest = BatchSql.Bind(db.CreateCommand(earliestSql), values);
        return await earliest.ExecuteScalarAsync(ct) is DateTime at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
    }
}
