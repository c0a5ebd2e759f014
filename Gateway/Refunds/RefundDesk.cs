using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Notifications;
using Mesh.Gateway.Options;
using Mesh.Gateway.Outbox;
using Mesh.Gateway.Payments;
using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Refunds;

public static class RefundKind
{
    public const string Refund = "refund";
    public const string Reversal = "reversal";

    /// <summary>A merchant's void (撤销): a reversal of the whole amount at the issuer that leaves the order voided.</summary>
    public const string Void = "void";

    /// <summary>Whether a refund of <paramref name="kind"/> takes the whole payment back (settlement books it as a reversal).</summary>
    public static bool TakesPaymentBack(string kind) => kind is Reversal or Void;
}

public static class RefundStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

public sealed record Refund(string MerchantId, string RefundId, string OrderId, long AmountMinor, string Currency, string Status, string? ResponseCode,
    DateTimeOffset CreatedAt, DateTimeOffset? AnsweredAt, NetPayRefundTerms? NetPay = null);

/// <summary>
/// A NetPay refund's own terms: its TransType (0002, 0012, 0102 or 0112), its Priv1 (the merchant's
/// refund serial) and its ReturnURL (blank: none), where its result is posted once known.
/// </summary>
public sealed record NetPayRefundTerms(string TransType, string Priv1, string? ReturnUrl)
{
    /// <summary>NetPay's refund TransTypes: first full, second full, first partial, second partial.</summary>
    public static readonly string[] TransTypes = ["0002", "0012", "0102", "0112"];

    /// <summary>A refund's ProcessDate, as NetPay answers it: the day it was taken, in China (UTC+8).</summary>
    public static string ProcessDate(DateTimeOffset createdAt) =>
        createdAt.ToOffset(TimeSpan.FromHours(8)).ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Refunds of paid orders, full or partial, several up to the amount paid. The amount is reserved
/// on the order under its row lock before the refund is sent, so refunds racing each other can
/// never exceed what was paid; a refund the issuer refuses gives its reservation back. A refund
/// is a 0220 advice through the switch, idempotent on the merchant's refund id; one whose answer
/// was lost is sent again (the switch answers a repeat with its first answer). A refund's result
/// rings the settlement relay and the notification dispatcher for the outbox rows it wrote, once
/// they are committed.
/// </summary>
public sealed class RefundDesk(
    NpgsqlDataSource db,
    Acquirer acquirer,
    SettlementRelay relay,
    NotificationDispatcher notifications,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<RefundDesk> logger)
{
    public const string ReversedMessage = "The merchant could not be told in time: the payment was reversed and you have not been charged.";

    public enum Refusal
    {
        None,
        NoSuchOrder,
        NotPaid,
        OverRemainder,
        RefundIdTaken,
    }

    public async Task<(Refusal Refusal, Refund? Refund, long RefundableMinor)> RefundAsync(string merchantId, string orderId, string refundId,
        long amountMinor, CancellationToken ct, string kind = RefundKind.Refund, NetPayRefundTerms? netPay = null)
    {
        using var activity = CardPayments.Telemetry.StartActivity("gateway refund");
        activity?.SetTag("mesh.merchant_id", merchantId).SetTag("mesh.order_id", orderId).SetTag("mesh.amount_minor", amountMinor);
        if (await FindAsync(merchantId, refundId, ct) is { } existing)
        {
            return existing.OrderId == orderId && existing.AmountMinor == amountMinor ? (Refusal.None, existing, 0) : (Refusal.RefundIdTaken, existing, 0);
        }
        await using var read = db.CreateCommand(
            """
            SELECT o.status, o.paid_minor - o.refunded_minor, o.currency, p.payment_id, p.pan_ciphertext, p.expiry, coalesce(h.stan, p.stan),
                   coalesce(h.transmission, p.transmission), nextval('acquirer_stan')
            FROM orders o LEFT JOIN payments p ON p.merchant_id = o.merchant_id AND p.order_id = o.order_id AND p.status = 'approved'
                LEFT JOIN hold_actions h ON h.merchant_id = o.merchant_id AND h.order_id = o.order_id AND h.kind = 'capture' AND h.status = 'succeeded'
            WHERE o.merchant_id = $1 AND o.order_id = $2
            """);
        BatchSql.Bind(read, merchantId, orderId);
        // The reader is disposed exactly once, at the end of this block: a reader of a data-source
        // command gives its connection back to the pool when disposed, and a second dispose would
        // then read from a connection another request is using.
        string currency, expiry, purchaseStan, purchaseTransmission;
        long paymentId, sequence;
        byte[] panCiphertext;
        await using (var row = await read.ExecuteReaderAsync(ct))
        {
            if (!await row.ReadAsync(ct))
            {
                return (Refusal.NoSuchOrder, null, 0);
            }
            if (row.GetString(0) != Orders.OrderStatus.Paid || row.IsDBNull(3))
            {
                return (Refusal.NotPaid, null, 0);
            }
            var remainder = row.GetInt64(1);
            if (amountMinor > remainder)
            {
                return (Refusal.OverRemainder, null, remainder);
            }
            (currency, paymentId, panCiphertext, expiry, purchaseStan, purchaseTransmission, sequence) = (row.GetString(2), row.GetInt64(3),
                row.GetFieldValue<byte[]>(4), row.GetString(5), row.GetString(6), row.GetString(7), row.GetInt64(8));
        }

        var now = time.GetUtcNow();
        var stan = Acquirer.Stan(sequence);
        var pan = await acquirer.RevealPanAsync(panCiphertext, ct);
        var packed = await acquirer.SignAndPackAsync(Acquirer.Refund(pan, expiry, amountMinor, currency, stan, now, merchantId, purchaseStan,
            purchaseTransmission), ct);
        var transmission = Acquirer.Transmission(now);

        // The reservation: under the order's row lock, the remainder is checked again and taken.
        await using (var connection = await db.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            await using var reserve = new NpgsqlCommand(
                """
                UPDATE orders SET refunded_minor = refunded_minor + $3, updated_at = $4
                WHERE merchant_id = $1 AND order_id = $2 AND status = 'paid' AND paid_minor - refunded_minor >= $3
                RETURNING paid_minor - refunded_minor
                """, connection, tx);
            BatchSql.Bind(reserve, merchantId, orderId, amountMinor, now);
            if (await reserve.ExecuteScalarAsync(ct) is null)
            {
                await tx.RollbackAsync(ct);
                return (Refusal.OverRemainder, null, await RemainderAsync(merchantId, orderId, ct));
            }
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO refunds (merchant_id, refund_id, order_id, payment_id, amount_minor, currency, status, stan, transmission, request, created_at, kind,
                                     netpay_trans_type, netpay_priv1, return_url)
                VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING
                """, connection, tx);
            BatchSql.Bind(insert, merchantId, refundId, orderId, paymentId, amountMinor, currency, stan, transmission, acquirer.WithoutPan(packed), now, kind,
                netPay?.TransType, netPay?.Priv1, netPay?.ReturnUrl);
            if (await insert.ExecuteNonQueryAsync(ct) == 0)
            {
                // The same refund id, sent twice at once: the first one is the refund.
                await tx.RollbackAsync(ct);
                var first = (await FindAsync(merchantId, refundId, ct))!;
                return first.OrderId == orderId && first.AmountMinor == amountMinor ? (Refusal.None, first, 0) : (Refusal.RefundIdTaken, first, 0);
            }
            await tx.CommitAsync(ct);
        }
        var answer = await acquirer.SendAsync(packed, ct);
        await SettleAsync(merchantId, refundId, answer?.GetString(IsoFields.ResponseCode), ct);
        return (Refusal.None, await FindAsync(merchantId, refundId, ct), 0);
    }

    /// <summary>
    /// Writes the issuer's answer: 00 → succeeded, with the order's new version and its outbox rows
    /// (due now: the relay and the dispatcher are rung after the commit); another code → failed, and
    /// the reservation is given back; no answer → still pending. The merchant is told of a refund's
    /// result either way: a <c>/v1</c> order's at its backUrl, a NetPay refund's at its own ReturnURL
    /// (none without one), never at the order's BgRetUrl, where a payment's handler would read it as
    /// money received.
    /// </summary>
    public async Task SettleAsync(string merchantId, string refundId, string? code, CancellationToken ct)
    {
        if (code is null)
        {
            logger.LogWarning("Refund {RefundId} of merchant {MerchantId}: no answer from the switch; it will be sent again", refundId, merchantId);
            return;
        }
        var now = time.GetUtcNow();
        var succeeded = code == ResponseCodes.Approved;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var answered = new NpgsqlCommand(
            """
            UPDATE refunds SET status = $3, response_code = $4, answered_at = $5 WHERE merchant_id = $1 AND refund_id = $2 AND status = 'pending'
            RETURNING order_id, amount_minor, currency, stan, transmission, kind, (SELECT issuer_id FROM payments p WHERE p.payment_id = refunds.payment_id),
                (SELECT protocol FROM orders o WHERE o.merchant_id = refunds.merchant_id AND o.order_id = refunds.order_id),
                netpay_trans_type, netpay_priv1, return_url, created_at
            """, connection, tx);
        BatchSql.Bind(answered, merchantId, refundId, succeeded ? RefundStatus.Succeeded : RefundStatus.Failed, code, now);
        string orderId, currency, stan, transmission, kind, protocol;
        long amountMinor;
        string? issuerId;
        NetPayRefundResult? netPay;
        await using (var row = await answered.ExecuteReaderAsync(ct))
        {
            if (!await row.ReadAsync(ct))
            {
                return; // already settled
            }
            (orderId, amountMinor, currency, stan, transmission, kind, protocol) = (row.GetString(0), row.GetInt64(1), row.GetString(2), row.GetString(3),
                row.GetString(4), row.GetString(5), row.GetString(7));
            issuerId = row.IsDBNull(6) ? null : row.GetString(6);
            netPay = protocol == Orders.OrderProtocol.NetPay && kind == RefundKind.Refund
                ? new NetPayRefundResult(row.IsDBNull(8) ? NetPayRefundTerms.TransTypes[0] : row.GetString(8), row.IsDBNull(9) ? "" : row.GetString(9),
                    row.IsDBNull(10) ? "" : row.GetString(10), NetPayRefundTerms.ProcessDate(row.GetFieldValue<DateTimeOffset>(11)))
                : null;
        }
        var reversal = RefundKind.TakesPaymentBack(kind);
        var endStatus = kind == RefundKind.Void ? Orders.OrderStatus.Voided : Orders.OrderStatus.Failed;
        await using var order = new NpgsqlCommand(
            (succeeded, reversal) switch
            {
                (true, false) => "UPDATE orders SET version = version + 1, updated_at = $3 WHERE merchant_id = $1 AND order_id = $2 RETURNING version",
                (true, true) => "UPDATE orders SET status = $5, version = version + 1, result_message = $6, updated_at = $3 WHERE merchant_id = $1 AND order_id = $2 RETURNING version",
                _ => "UPDATE orders SET refunded_minor = refunded_minor - $4, updated_at = $3 WHERE merchant_id = $1 AND order_id = $2 RETURNING version",
            },
            connection, tx);
        BatchSql.Bind(order, merchantId, orderId, now, amountMinor);
        if (succeeded && reversal)
        {
            BatchSql.Bind(order, endStatus, kind == RefundKind.Void ? Orders.OrderLifetime.VoidedMessage : ReversedMessage);
        }
        var version = (int)(await order.ExecuteScalarAsync(ct))!;
        // A failed refund moved no money: the merchant is told (a refund of theirs), settlement is not.
        var topics = new List<string>(2);
        if ((succeeded || kind == RefundKind.Refund) && netPay is not { ReturnUrl.Length: 0 })
        {
            topics.Add(OutboxRows.Notification);
        }
        if (succeeded)
        {
            topics.Add(OutboxRows.Settlement);
        }
        await using var outbox = new NpgsqlBatch(connection, tx);
        if (succeeded && reversal)
        {
            // "Paid" must not reach the merchant after "failed" or "voided".
            outbox.BatchCommands.Add(BatchSql.Command(
                """
                UPDATE outbox SET superseded_at = $3 WHERE merchant_id = $1 AND order_id = $2 AND topic = 'notification'
                    AND delivered_at IS NULL AND given_up_at IS NULL AND superseded_at IS NULL
                """, merchantId, orderId, now));
        }
        foreach (var command in OutboxRows.For(new OutboxEvent(reversal ? RefundKind.Reversal : kind, merchantId, orderId, version,
                     !succeeded ? RefundStatus.Failed : reversal ? endStatus : RefundStatus.Succeeded, amountMinor, currency, code, null, stan, transmission,
                     null, null, refundId, now, issuerId, NetPayRefund: netPay), now, topics))
        {
            outbox.BatchCommands.Add(command);
        }
        if (outbox.BatchCommands.Count > 0)
        {
            await outbox.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        if (topics.Contains(OutboxRows.Settlement))
        {
            relay.Wake();
        }
        if (topics.Contains(OutboxRows.Notification))
        {
            notifications.Wake();
        }
        logger.LogInformation("Refund {RefundId} of order {OrderId} ({AmountMinor}) is {Status}: response {Code}", refundId, orderId, amountMinor,
            succeeded ? RefundStatus.Succeeded : RefundStatus.Failed, code);
    }

    /// <summary>Pending refunds older than the resolve delay are sent again; the switch answers a repeat with its first answer.</summary>
    public async Task ResolveDueAsync(int batchSizeMax, CancellationToken ct)
    {
        await using var due = db.CreateCommand(
            """
            SELECT r.merchant_id, r.refund_id, r.request, p.pan_ciphertext FROM refunds r JOIN payments p ON p.payment_id = r.payment_id
            WHERE r.status = 'pending' AND r.created_at < $1 ORDER BY r.created_at LIMIT $2
            """);
        BatchSql.Bind(due, time.GetUtcNow().AddMilliseconds(-options.Value.ResolveAfterMs), batchSizeMax);
        var pending = new List<(string MerchantId, string RefundId, byte[] Request, byte[] PanCiphertext)>();
        await using (var row = await due.ExecuteReaderAsync(ct))
        {
            while (await row.ReadAsync(ct))
            {
                pending.Add((row.GetString(0), row.GetString(1), row.GetFieldValue<byte[]>(2), row.GetFieldValue<byte[]>(3)));
            }
        }
        foreach (var (merchantId, refundId, request, panCiphertext) in pending)
        {
            var answer = await acquirer.SendAsync(await acquirer.WithPanAsync(request, panCiphertext, ct), ct);
            await SettleAsync(merchantId, refundId, answer?.GetString(IsoFields.ResponseCode), ct);
        }
    }

    public async Task<Refund?> FindAsync(string merchantId, string refundId, CancellationToken ct)
    {
        await using var find = db.CreateCommand(
            """
            SELECT merchant_id, refund_id, order_id, amount_minor, currency, status, response_code, created_at, answered_at,
                   netpay_trans_type, netpay_priv1, return_url
            FROM refunds WHERE merchant_id = $1 AND refund_id = $2
            """);
        BatchSql.Bind(find, merchantId, refundId);
        await using var row = await find.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct)
            ? new Refund(row.GetString(0), row.GetString(1), row.GetString(2), row.GetInt64(3), row.GetString(4), row.GetString(5),
                row.IsDBNull(6) ? null : row.GetString(6), row.GetFieldValue<DateTimeOffset>(7), row.IsDBNull(8) ? null : row.GetFieldValue<DateTimeOffset>(8),
                row.IsDBNull(9) ? null : new NetPayRefundTerms(row.GetString(9), row.IsDBNull(10) ? "" : row.GetString(10), row.IsDBNull(11) ? null : row.GetString(11)))
            : null;
    }

    private async Task<long> RemainderAsync(string merchantId, string orderId, CancellationToken ct)
    {
        await using var remainder = db.CreateCommand("SELECT paid_minor - refunded_minor FROM orders WHERE merchant_id = $1 AND order_id = $2");
        BatchSql.Bind(remainder, merchantId, orderId);
        return (long)(await remainder.ExecuteScalarAsync(ct))!;
    }
}
