using Npgsql;

namespace Mesh.ServiceDefaults.Database;

/// <summary>A work queue's backlog for the metrics: how many items wait, and how long the oldest has waited.</summary>
public static class QueueBacklog
{
    /// <summary>How often a queue's pass also counts its backlog (a count every pass would double the idle queries).</summary>
    public static readonly TimeSpan MeasuredEvery = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="countAndOldestSql"/>, which answers one row: the count and the oldest item's time (null when none).</summary>
    public static async Task<(long Count, double OldestAgeSeconds)> MeasureAsync(NpgsqlDataSource db, string countAndOldestSql, TimeProvider time,
        CancellationToken ct)
    {
        await using var count = db.CreateCommand(countAndOldestSql);
        await using var row = await count.ExecuteReaderAsync(ct);
        await row.ReadAsync(ct);
        var oldest = row.IsDBNull(1) ? (DateTimeOffset?)null : row.GetFieldValue<DateTimeOffset>(1);
        return (row.GetInt64(0), oldest is { } since ? Math.Max(0, (time.GetUtcNow() - since).TotalSeconds) : 0);
    }
}

/// <summary>When a queue's pass next measures its backlog: on the first pass, then every <see cref="QueueBacklog.MeasuredEvery"/>.</summary>
public sealed class BacklogSchedule(TimeProvider time)
{
    private long _measured = long.MinValue;

    public async Task MeasureIfDueAsync(Func<CancellationToken, Task> measure, CancellationToken ct)
    {
        if (_measured != long.MinValue && time.GetElapsedTime(_measured) < QueueBacklog.MeasuredEvery)
        {
            return;
        }
        await measure(ct);
        _measured = time.GetTimestamp();
    }
}
