using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Gateway.Notifications;

/// <summary>A notification's attempts, as operators and the console read them.</summary>
public sealed record NotificationAttempt(int Attempt, DateTimeOffset AttemptedAt, string Url, int? StatusCode, double LatencyMs, string? Error);

public sealed record NotificationState(long NotificationId, string OrderId, int OrderVersion, int Attempts, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt, DateTimeOffset? GivenUpAt, DateTimeOffset? SupersededAt, string? LastError, List<NotificationAttempt> History);

/// <summary>
/// Notifications for operators, under <c>/admin</c> (operator key): an order's notifications with
/// every attempt, and a re-send on demand (due now, even after the schedule gave up).
/// </summary>
public static class NotificationsAdminApi
{
    public static RouteGroupBuilder MapNotificationsAdminApi(this RouteGroupBuilder group)
    {
        group.MapGet("/merchants/{merchantId}/orders/{orderId}/notifications", ListAsync).WithName("ListNotifications").WithTags("Admin")
            .WithSummary("An order's notifications to the merchant, each with its attempts (time, status code, latency, error)");
        group.MapPost("/notifications/{notificationId:long}/resend", ResendAsync).WithName("ResendNotification").WithTags("Admin")
            .WithSummary("Makes a notification due now (also one that was given up); its history is kept");
        return group;
    }

    private static async Task<IResult> ListAsync(string merchantId, string orderId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var find = db.CreateCommand(
            """
            SELECT x.outbox_id, x.order_id, x.order_version, x.attempts, x.next_attempt_at, x.delivered_at, x.given_up_at, x.superseded_at, x.last_error,
                   a.attempt, a.attempted_at, a.url, a.status_code, a.latency_ms, a.error
            FROM outbox x LEFT JOIN notification_attempts a ON a.outbox_id = x.outbox_id
            WHERE x.merchant_id = $1 AND x.order_id = $2 AND x.topic = 'notification'
            ORDER BY x.outbox_id, a.attempt LIMIT 1000
            """);
        BatchSql.Bind(find, merchantId, orderId);
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
        return TypedResults.Ok(states);
    }

    private static async Task<IResult> ResendAsync(long notificationId, NpgsqlDataSource db, TimeProvider time, CancellationToken ct)
    {
        await using var resend = db.CreateCommand(
            """
            UPDATE outbox SET next_attempt_at = $2, given_up_at = NULL, delivered_at = NULL
            WHERE outbox_id = $1 AND topic = 'notification' AND superseded_at IS NULL RETURNING attempts
            """);
        BatchSql.Bind(resend, notificationId, time.GetUtcNow());
        return await resend.ExecuteScalarAsync(ct) is int attempts
            ? TypedResults.Accepted($"/admin/notifications/{notificationId}", new { notificationId, attempts, due = time.GetUtcNow() })
            : TypedResults.Problem($"No notification {notificationId} that can be sent again", statusCode: StatusCodes.Status404NotFound);
    }
}
