using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Payments;
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

    /// <summary>
    /// The notification a payment's final state owes, as <see cref="CardPayments"/> writes it and the page's path delivers it: true
    /// when the order may have changed since (a realtime merchant could not be told, so its payment was reversed).
    /// </summary>
    public async Task<bool> AfterPaymentAsync(OwedNotification owed, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(owed);
        var (mode, status, version, refundableMinor, notification) = owed;
        var (merchantId, orderId) = (notification.Event.MerchantId, notification.Event.OrderId);
        if (mode == Redirect)
        {
            await using var later = db.CreateCommand("UPDATE outbox SET next_attempt_at = $2 WHERE outbox_id = $1 AND delivered_at IS NULL");
            BatchSql.Bind(later, notification.NotificationId, time.GetUtcNow().AddSeconds(options.Value.Schedule[0]));
            await later.ExecuteNonQueryAsync(ct);
            return false;
        }
        var delivered = await sender.SendAsync(notification, ct);
        if (delivered || mode != Realtime || status != OrderStatus.Paid || refundableMinor <= 0)
        {
            return false;
        }
        logger.LogWarning("Order {OrderId} of merchant {MerchantId} is paid but the merchant could not be told: reversing it", orderId, merchantId);
        var (refusal, reversal, _) = await refunds.RefundAsync(merchantId, orderId, ReversalRefundId(orderId, version), refundableMinor, ct, RefundKind.Reversal);
        if (refusal != RefundDesk.Refusal.None || reversal?.Status != RefundStatus.Succeeded)
        {
            logger.LogWarning("The reversal of order {OrderId} is {State}: the order stays paid until the issuer takes it", orderId,
                reversal?.Status ?? refusal.ToString());
        }
        return true;
    }

    /// <summary>
    /// The refund id of the reversal an order's unannounced payment gets: of that order and its
    /// version (refund ids are unique per merchant, so an id of the version alone made the second
    /// order reversed at the same version a "taken refund id", and that order stayed paid), within
    /// the 32 characters a refund id has: <c>rv{version}-</c> and 24 hex digits of the order id's SHA-256.
    /// </summary>
    public static string ReversalRefundId(string orderId, int version) =>
        $"rv{version.ToString(CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(orderId)))[..24]}";
}

/// <summary>
/// A final state's notification with what the page's path decides by: the delivery mode (the
/// order's own, else the merchant's), the order's state and version, and what is left to reverse.
/// </summary>
public sealed record OwedNotification(string Mode, string Status, int Version, long RefundableMinor, PendingNotification Notification)
{
    /// <summary>Its columns, over the order <c>o</c>, its merchant <c>m</c> and the notification's outbox row <c>x</c>.</summary>
    public const string Columns =
        $"coalesce(o.notification_mode, m.notification_mode), o.status, o.version, o.paid_minor - o.refunded_minor, {NotificationSender.PendingColumns}";

    /// <summary>How many columns <see cref="Columns"/> has.</summary>
    public const int ColumnCount = 4 + NotificationSender.PendingColumnCount;

    /// <summary>One from <see cref="Columns"/>, starting at column <paramref name="first"/> of the row.</summary>
    public static OwedNotification Read(NpgsqlDataReader row, int first)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new OwedNotification(row.GetString(first), row.GetString(first + 1), row.GetInt32(first + 2), row.GetInt64(first + 3),
            NotificationSender.ReadPending(row, first + 4));
    }
}
