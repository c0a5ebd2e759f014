
namespace Mesh.Gateway.Notifications;

/// <summary>A notification's failed attempts, as operators and the console read them; its delivery is <see cref="NotificationState.DeliveredAt"/>.</summary>
public sealed record NotificationAttempt(int Attempt, DateTimeOffset AttemptedAt, string Url, int? StatusCode, double LatencyMs, string? Error);

public sealed record NotificationState(long NotificationId, string OrderId, int OrderVersion, int Attempts, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt, DateTimeOffset? GivenUpAt, DateTimeOffset? SupersededAt, string? LastError, List<NotificationAttempt> History);

/// <summary>
/// Notifications for operators, under <c>/admin</c> (operator key): an order's notifications with
/// every attempt, and a re-send on demand (due now, even after the schedule gave up), of one or of
/// every notification still owed.
/// </summary>
public static class NotificationsAdminApi
{
    public static RouteGroupBuilder MapNotificationsAdminApi(this RouteGroupBuilder group)
    {
        group.MapGet("/merchants/{merchantId}/orders/{orderId}/notifications", ListAsync).WithName("ListNotifications").WithTags("Admin")
            .WithSummary("An order's notifications to the merchant: attempts, delivery time, and each failed attempt (time, status code, latency, error)");
        group.MapPost("/notifications/{notificationId:long}/resend", ResendAsync).WithName("ResendNotification").WithTags("Admin")
            .WithSummary("Makes a notification due now (also one that was given up); its history is kept");
        group.MapPost("/notifications/resend-pending", ResendPendingAsync).WithName("ResendPendingNotifications").WithTags("Admin")
            .WithSummary($"Makes every notification still owed due now, the given-up ones too (at most {NotificationHistory.ResendPendingMax} a call)");
        return group;
    }

    private static async Task<IResult> ListAsync(string merchantId, string orderId, NotificationHistory history, CancellationToken ct) =>
        TypedResults.Ok(await history.OfOrderAsync(merchantId, orderId, ct));

    private static async Task<IResult> ResendPendingAsync(NotificationHistory history, TimeProvider time, CancellationToken ct)
    {
        var due = await history.ResendPendingAsync(ct);
        return TypedResults.Ok(new { due, dueAt = time.GetUtcNow(), more = due == NotificationHistory.ResendPendingMax });
    }

    private static async Task<IResult> ResendAsync(long notificationId, NotificationHistory history, TimeProvider time, CancellationToken ct) =>
        await history.ResendAsync(notificationId, merchantId: null, ct) is { } attempts
            ? TypedResults.Accepted($"/admin/notifications/{notificationId}", new { notificationId, attempts, due = time.GetUtcNow() })
            : TypedResults.Problem($"No notification {notificationId} that can be sent again", statusCode: StatusCodes.Status404NotFound);
}
