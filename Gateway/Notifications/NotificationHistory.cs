using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Gateway.Notifications;

/// <summary>
/// Notifications to merchants with every attempt, and a re-send on demand: for the operators' API and the merchant console. A
/// re-send rings the dispatcher once the notifications it made due are committed.
/// </summary>
public sealed class NotificationHistory(NpgsqlDataSource db, NotificationDispatcher notifications, TimeProvider time)
{
    public const int ListedMax = 200;

    /// <summary>An order's notifications, each with its attempts.</summary>
    public Task<List<NotificationState>> OfOrderAsync(string merchantId, string orderId, CancellationToken ct) =>
        ReadAsync("x.merchant_id = $1 AND x.order_id = $2", ct, merchantId, orderId);

    /// <summary>A merchant's latest notifications (at most <see cref="ListedMax"/>), each with its attempts.</summary>
    public Task<List<NotificationState>> RecentAsync(string merchantId, CancellationToken ct) =>
        ReadAsync($"x.outbox_id IN (SELECT outbox_id FROM outbox WHERE merchant_id = $1 AND topic = 'notification' ORDER BY outbox_id DESC LIMIT {ListedMax})", ct,
            merchantId);

    /// <summary>Makes a notification due now (also one that was given up), keeping its history; its attempts so far, or null if there is none to send.</summary>
    public async Task<int?> ResendAsync(long notificationId, string? merchantId, CancellationToken ct)
    {
        await using var resend = db.CreateCommand(
            """
            UPDATE outbox SET next_attempt_at = $2, given_up_at = NULL, delivered_at = NULL
            WHERE outbox_id = $1 AND topic = 'notification' AND superseded_at IS NULL AND ($3::text IS NULL OR merchant_id = $3) RETURNING attempts
            """);
        BatchSql.Bind(resend, notificationId, time.GetUtcNow(), new NpgsqlParameter { Value = (object?)merchantId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var attempts = await resend.ExecuteScalarAsync(ct) as int?;
        if (attempts is not null)
        {
            notifications.Wake();
        }
        return attempts;
    }

    /// <summary>At most this many notifications are made due by one <see cref="ResendPendingAsync"/>.</summary>
    public const int ResendPendingMax = 10_000;

    /// <summary>
    /// Makes every notification still owed due now, the given-up ones too (after the merchant fixed
    /// its endpoint, say), oldest first and at most <see cref="ResendPendingMax"/>; how many.
    /// </summary>
    public async Task<int> ResendPendingAsync(CancellationToken ct)
    {
        await using var resend = db.CreateCommand(
            """
            UPDATE outbox o SET next_attempt_at = $1, given_up_at = NULL FROM (
                SELECT outbox_id FROM outbox WHERE topic = 'notification' AND delivered_at IS NULL AND superseded_at IS NULL
                ORDER BY outbox_id LIMIT $2 FOR UPDATE SKIP LOCKED) owed
            WHERE o.outbox_id = owed.outbox_id
            """);
        BatchSql.Bind(resend, time.GetUtcNow(), ResendPendingMax);
        var due = await resend.ExecuteNonQueryAsync(ct);
        if (due > 0)
        {
            notifications.Wake();
        }
        return due;
    }

    private async Task<List<NotificationState>> ReadAsync(string where, CancellationToken ct, params object[] values)
    {
        await using var find = db.CreateCommand(
            $"""
            SELECT x.outbox_id, x.order_id, x.order_version, x.attempts, x.next_attempt_at, x.delivered_at, x.given_up_at, x.superseded_at, x.last_error,
                   a.attempt, a.attempted_at, a.url, a.status_code, a.latency_ms, a.error
            FROM outbox x LEFT JOIN notification_attempts a ON a.outbox_id = x.outbox_id
            WHERE {where} AND x.topic = 'notification'
            ORDER BY x.outbox_id DESC, a.attempt LIMIT 2000
            """);
        BatchSql.Bind(find, values);
        var states = new List<NotificationState>();
        await using var row = await find.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            DateTimeOffset? At(int i) => row.IsDBNull(i) ? null : row.GetFieldValue<DateTimeOffset>(i);
            var id = row.GetInt64(0);
            if (states.Count == 0 || states[^1].NotificationId != id)
            {
                states.Add(new NotificationState(id, row.GetString(1), row.GetInt32(2), row.GetInt32(3), At(4), At(5), At(6), At(7),
                    row.IsDBNull(8) ? null : row.GetString(8), []));
            }
            if (!row.IsDBNull(9))
            {
                states[^1].History.Add(new NotificationAttempt(row.GetInt32(9), row.GetFieldValue<DateTimeOffset>(10), row.GetString(11),
                    row.IsDBNull(12) ? null : row.GetInt32(12), row.GetDouble(13), row.IsDBNull(14) ? null : row.GetString(14)));
            }
        }
        return states;
    }
}
