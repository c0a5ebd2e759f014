using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// One moment in an order's life, for the console's timeline: which step (<see cref="TimelineSteps"/>), what happened in the
/// database's English (<c>payment approved</c>, <c>refund succeeded</c>), and the step's particulars as values (ids, codes, amounts),
/// worded by the page.
/// </summary>
public sealed record TimelineEvent(DateTimeOffset At, string Step, string What, string? A, string? B, string? C);

/// <summary>The steps of an order's timeline, and what each one's particulars <c>A</c>, <c>B</c>, <c>C</c> are.</summary>
public static class TimelineSteps
{
    /// <summary>A payment sent to the switch: masked PAN, STAN, RRN.</summary>
    public const string PaymentSent = "payment-sent";

    /// <summary>The payment's answer: response code, authorization code.</summary>
    public const string PaymentAnswered = "payment-answered";

    /// <summary>A refund, reversal or void asked for: its id, amount in minor units, currency.</summary>
    public const string RefundRequested = "refund-requested";

    /// <summary>Its answer: its id, response code.</summary>
    public const string RefundAnswered = "refund-answered";

    /// <summary>A notification attempt: HTTP status, error, latency in ms.</summary>
    public const string NotificationAttempt = "notification-attempt";

    /// <summary>The merchant told: the order's version.</summary>
    public const string MerchantNotified = "merchant-notified";

    /// <summary>The settlement row relayed: its ledger kind.</summary>
    public const string HandedToSettlement = "handed-to-settlement";
}

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
            SELECT created_at, 'payment-sent', 'payment sent', pan_masked, stan, rrn FROM payments WHERE merchant_id = $1 AND order_id = $2
            UNION ALL
            SELECT answered_at, 'payment-answered', 'payment ' || status, response_code, auth_code, NULL
              FROM payments WHERE merchant_id = $1 AND order_id = $2 AND answered_at IS NOT NULL
            UNION ALL
            SELECT created_at, 'refund-requested', kind || ' requested', refund_id, amount_minor::text, currency FROM refunds WHERE merchant_id = $1 AND order_id = $2
            UNION ALL
            SELECT answered_at, 'refund-answered', kind || ' ' || status, refund_id, response_code, NULL
              FROM refunds WHERE merchant_id = $1 AND order_id = $2 AND answered_at IS NOT NULL
            UNION ALL
            SELECT a.attempted_at, 'notification-attempt', 'notification attempt ' || a.attempt, a.status_code::text, a.error, round(a.latency_ms)::text
              FROM notification_attempts a JOIN outbox o ON o.outbox_id = a.outbox_id WHERE o.merchant_id = $1 AND o.order_id = $2
            UNION ALL
            SELECT o.delivered_at, 'merchant-notified', 'merchant notified', o.order_version::text, NULL, NULL
              FROM outbox o WHERE o.merchant_id = $1 AND o.order_id = $2 AND o.topic = 'notification' AND o.delivered_at IS NOT NULL
            UNION ALL
            SELECT o.delivered_at, 'handed-to-settlement', 'handed to settlement', o.payload->>'kind', NULL, NULL
              FROM outbox o WHERE o.merchant_id = $1 AND o.order_id = $2 AND o.topic = 'settlement' AND o.delivered_at IS NOT NULL
            ORDER BY 1
            LIMIT 500
            """);
        BatchSql.Bind(read, merchantId, orderId);
        await using var row = await read.ExecuteReaderAsync(ct);
        var events = new List<TimelineEvent>();
        while (await row.ReadAsync(ct))
        {
            events.Add(new TimelineEvent(row.GetFieldValue<DateTimeOffset>(0), row.GetString(1), row.GetString(2), Text(row, 3), Text(row, 4), Text(row, 5)));
        }
        return events;
    }

    private static string? Text(NpgsqlDataReader row, int column) => row.IsDBNull(column) ? null : row.GetString(column);

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
