using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Gateway.Consoles;

/// <summary>One moment in an order's life, for the console's timeline.</summary>
public sealed record TimelineEvent(DateTimeOffset At, string What, string Detail);

/// <summary>A day's paid volume and how many orders were decided, for the console's home page.</summary>
public sealed record DayVolume(DateOnly Date, long PaidMinor, int Paid, int Failed);

/// <summary>What the merchant console reads beyond the order book: an order's timeline and the daily figures.</summary>
public sealed class ConsoleQueries(NpgsqlDataSource db)
{
    public static readonly TimeZoneInfo BusinessZone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    /// <summary>Today in the business time zone.</summary>
    public static DateOnly Today(TimeProvider time) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), BusinessZone).DateTime);

    /// <summary>When a business day starts (midnight in the business time zone), in UTC.</summary>
    public static DateTimeOffset StartOf(DateOnly date)
    {
        var midnight = date.ToDateTime(TimeOnly.MinValue);
        return new DateTimeOffset(midnight, BusinessZone.GetUtcOffset(midnight)).ToUniversalTime();
    }

    /// <summary>Each payment attempt and its answer, each refund, each notification attempt, oldest first (the PAN masked).</summary>
    public async Task<List<TimelineEvent>> TimelineAsync(string merchantId, string orderId, CancellationToken ct)
    {
        await using var read = db.CreateCommand(
            """
            SELECT created_at, 'payment sent', pan_masked || ' · STAN ' || stan || ' · RRN ' || rrn FROM payments WHERE merchant_id = $1 AND order_id = $2
            UNION ALL
            SELECT answered_at, 'payment ' || status, 'response ' || coalesce(response_code, '-') || coalesce(' · authorization ' || auth_code, '')
              FROM payments WHERE merchant_id = $1 AND order_id = $2 AND answered_at IS NOT NULL
            UNION ALL
            SELECT created_at, kind || ' requested', refund_id || ' · ' || to_char(amount_minor / 100.0, 'FM999999999990.00') || ' ' || currency FROM refunds WHERE merchant_id = $1 AND order_id = $2
            UNION ALL
            SELECT answered_at, kind || ' ' || status, refund_id || ' · response ' || coalesce(response_code, '-')
              FROM refunds WHERE merchant_id = $1 AND order_id = $2 AND answered_at IS NOT NULL
            UNION ALL
            SELECT a.attempted_at, 'notification attempt ' || a.attempt,
                   coalesce('HTTP ' || a.status_code, 'no answer') || coalesce(' · ' || a.error, '') || ' · ' || round(a.latency_ms)::text || ' ms'
              FROM notification_attempts a JOIN outbox o ON o.outbox_id = a.outbox_id WHERE o.merchant_id = $1 AND o.order_id = $2
            UNION ALL
            SELECT o.delivered_at, 'merchant notified', 'order version ' || o.order_version
              FROM outbox o WHERE o.merchant_id = $1 AND o.order_id = $2 AND o.topic = 'notification' AND o.delivered_at IS NOT NULL
            UNION ALL
            SELECT o.delivered_at, 'handed to settlement', o.payload->>'kind'
              FROM outbox o WHERE o.merchant_id = $1 AND o.order_id = $2 AND o.topic = 'settlement' AND o.delivered_at IS NOT NULL
            ORDER BY 1
            LIMIT 500
            """);
        BatchSql.Bind(read, merchantId, orderId);
        await using var row = await read.ExecuteReaderAsync(ct);
        var events = new List<TimelineEvent>();
        while (await row.ReadAsync(ct))
        {
            events.Add(new TimelineEvent(row.GetFieldValue<DateTimeOffset>(0), row.GetString(1), row.IsDBNull(2) ? "" : row.GetString(2)));
        }
        return events;
    }

    /// <summary>The last <paramref name="days"/> business days (Asia/Shanghai) up to today, each with its paid volume and decided orders.</summary>
    public async Task<List<DayVolume>> DailyAsync(string merchantId, DateOnly today, int days, CancellationToken ct)
    {
        var first = today.AddDays(1 - days);
        await using var read = db.CreateCommand(
            """
            SELECT (updated_at AT TIME ZONE 'Asia/Shanghai')::date, coalesce(sum(paid_minor) FILTER (WHERE status = 'paid'), 0)::bigint,
                   count(*) FILTER (WHERE status = 'paid')::int, count(*) FILTER (WHERE status = 'failed')::int
            FROM orders WHERE merchant_id = $1 AND updated_at >= $2 AND status IN ('paid', 'failed')
            GROUP BY 1
            """);
        BatchSql.Bind(read, merchantId, StartOf(first));
        var found = new Dictionary<DateOnly, DayVolume>();
        await using var row = await read.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            var date = row.GetFieldValue<DateOnly>(0);
            found[date] = new DayVolume(date, row.GetInt64(1), row.GetInt32(2), row.GetInt32(3));
        }
        return Enumerable.Range(0, days).Select(i => first.AddDays(i)).Select(d => found.GetValueOrDefault(d) ?? new DayVolume(d, 0, 0, 0)).ToList();
    }
}
