using Mesh.Gateway.Orders;
using Mesh.Gateway.Refunds;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Notifications;

/// <summary>
/// Who hears a payment's result first, by the merchant's delivery mode (the order's own, else the
/// merchant's):
/// <list type="bullet">
/// <item><b>realtime</b>: the merchant's server, before the consumer sees anything. If it cannot
/// be told and the payment succeeded, the payment is reversed (the full amount refunded through
/// the switch): once the issuer takes it the order is failed; if not, it stays paid. Either way
/// the final state goes on the schedule.</item>
/// <item><b>deferred</b>: the merchant's server first too; a failed send goes on the schedule.</item>
/// <item><b>redirect</b>: the consumer's browser carries the signed answer to the merchant; the
/// server notification follows on the schedule's first slot in case the redirect never arrives.</item>
/// </list>
/// </summary>
public sealed class ResultDelivery(
    NpgsqlDataSource db,
    NotificationSender sender,
    RefundDesk refunds,
    IOptions<NotificationOptions> options,
    TimeProvider time,
    ILogger<ResultDelivery> logger)
{
    public const string Realtime = "realtime";
    public const string Deferred = "deferred";
    public const string Redirect = "redirect";

    public async Task AfterPaymentAsync(string merchantId, string orderId, CancellationToken ct)
    {
        // The notification is read whole here: the sender builds its message from this row, not from a second look-up.
        await using var find = db.CreateCommand(
            $"""
            SELECT coalesce(o.notification_mode, m.notification_mode), o.status, o.version, o.paid_minor - o.refunded_minor, {NotificationSender.PendingColumns}
            FROM orders o JOIN merchants m ON m.merchant_id = o.merchant_id
            JOIN outbox x ON x.merchant_id = o.merchant_id AND x.order_id = o.order_id AND x.order_version = o.version AND x.topic = 'notification'
            WHERE o.merchant_id = $1 AND o.order_id = $2 AND x.delivered_at IS NULL AND x.superseded_at IS NULL
            """);
        BatchSql.Bind(find, merchantId, orderId);
        PendingNotification notification;
        string mode, status;
        int version;
        long refundableMinor;
        await using (var row = await find.ExecuteReaderAsync(ct))
        {
            if (!await row.ReadAsync(ct))
            {
                return;
            }
            (mode, status, version, refundableMinor) = (row.GetString(0), row.GetString(1), row.GetInt32(2), row.GetInt64(3));
            notification = NotificationSender.ReadPending(row, 4);
        }
        if (mode == Redirect)
        {
            await using var later = db.CreateCommand("UPDATE outbox SET next_attempt_at = $2 WHERE outbox_id = $1 AND delivered_at IS NULL");
            BatchSql.Bind(later, notification.NotificationId, time.GetUtcNow().AddSeconds(options.Value.Schedule[0]));
            await later.ExecuteNonQueryAsync(ct);
            return;
        }
        var delivered = await sender.SendAsync(notification, ct);
        if (delivered || mode != Realtime || status != OrderStatus.Paid || refundableMinor <= 0)
        {
            return;
        }
        logger.LogWarning("Order {OrderId} of merchant {MerchantId} is paid but the merchant could not be told: reversing it", orderId, merchantId);
        var (refusal, reversal, _) = await refunds.RefundAsync(merchantId, orderId, $"reversal-v{version}", refundableMinor, ct, RefundKind.Reversal);
        if (refusal != RefundDesk.Refusal.None || reversal?.Status != RefundStatus.Succeeded)
        {
            logger.LogWarning("The reversal of order {OrderId} is {State}: the order stays paid until the issuer takes it", orderId,
                reversal?.Status ?? refusal.ToString());
        }
    }
}
