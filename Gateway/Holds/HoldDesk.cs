using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Notifications;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Outbox;
using Mesh.Gateway.Payments;
using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Database;
using Mesh.ServiceDefaults.Safety;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Holds;

/// <summary>
/// Captures and releases of holds (<see cref="HoldRules"/>). A capture is a completion (0200,
/// condition 06) of the hold's pre-authorization: the bank releases the whole hold and debits the
/// amount captured, so a partial capture gives the rest back. A release is a reversal (0420) of the
/// pre-authorization, which the switch owes the bank until it acknowledges it. Each takes the order's
/// row first (authorized → capturing, or → released/expired) in the transaction that records the
/// request, so of two captures, or a capture and a release, racing, exactly one takes the hold; the
/// request is stored (without its card number) to be sent again while its answer is unknown, and a
/// repeat at the switch gets its first answer, so nothing is lost or done twice. A capture whose
/// outcome is unknown keeps the order capturing until the switch has reversed it (the hold then stands
/// and may be captured again). A captured hold is the sale: its settlement row is a purchase at the
/// amount captured, under the completion's STAN; a hold and its release book nothing.
/// </summary>
public sealed class HoldDesk(
    NpgsqlDataSource db,
    OrderBook orders,
    Acquirer acquirer,
    SettlementRelay relay,
    NotificationDispatcher notifications,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<HoldDesk> logger)
{
    /// <summary>The kind of a hold's events (approved, released, expired) in the outbox and the merchant's notifications.</summary>
    public const string HoldKind = "hold";

    /// <summary>The kind of a capture's notification (its settlement row is a purchase).</summary>
    public const string CaptureKind = "capture";

    public const string AuthorizedMessage = "The amount is held on your card: the merchant charges it when the order is fulfilled.";
    public const string CapturedMessage = "The merchant captured the held amount: that is what you are charged.";
    public const string ReleasedMessage = "The merchant released the hold on your card: nothing was charged.";
    public const string ExpiredMessage = "The hold on your card expired and was released: nothing was charged.";

    /// <summary>What a capture came to once it was sent.</summary>
    public enum Outcome
    {
        Refused,
        Captured,
        InFlight,
        Declined,
        Released,
    }

    private sealed record HeldPayment(long PaymentId, byte[] PanCiphertext, string Expiry, string Stan, string Transmission, string PanMasked,
        string? IssuerId, long Sequence);

    public async Task<(HoldRules.Refusal Refusal, Outcome Outcome, Order? Order)> CaptureAsync(string merchantId, string orderId, long amountMinor,
        CancellationToken ct)
    {
        using var activity = CardPayments.Telemetry.StartActivity("gateway capture");
        activity?.SetTag("mesh.merchant_id", merchantId).SetTag("mesh.order_id", orderId).SetTag("mesh.amount_minor", amountMinor);
        var order = await orders.FindAsync(merchantId, orderId, ct);
        if (HoldRules.OnCapture(order, amountMinor) is not HoldRules.Refusal.None and var refusal)
        {
            return (refusal, Outcome.Refused, order);
        }
        if (await HeldPaymentAsync(merchantId, orderId, ct) is not { } hold)
        {
            return (HoldRules.Refusal.NotHeld, Outcome.Refused, order);
        }
        var now = time.GetUtcNow();
        var stan = Acquirer.Stan(hold.Sequence);
        var request = Acquirer.Completion(await acquirer.RevealPanAsync(hold.PanCiphertext, ct), hold.Expiry, amountMinor, order!.Currency, stan, now,
            merchantId, hold.Stan, hold.Transmission);
        var packed = await acquirer.SignAndPackAsync(request, ct);
        var transmission = Acquirer.Transmission(now);
        await using (var connection = await db.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            await using var take = new NpgsqlCommand(
                $"""
                UPDATE orders SET status = '{OrderStatus.Capturing}', updated_at = $3
                WHERE merchant_id = $1 AND order_id = $2 AND status = '{OrderStatus.Authorized}' AND capture_mode = '{CaptureMode.Hold}' AND amount_minor >= $4
                """, connection, tx);
            BatchSql.Bind(take, merchantId, orderId, now, amountMinor);
            if (await take.ExecuteNonQueryAsync(ct) == 0)
            {
                await tx.RollbackAsync(ct);
                var current = await orders.FindAsync(merchantId, orderId, ct);
                return (Refused(HoldRules.OnCapture(current, amountMinor)), Outcome.Refused, current);
            }
            await RecordAsync(connection, tx, HoldActionKind.Capture, HoldReason.Merchant, merchantId, orderId, amountMinor, order.Currency, hold, stan,
                transmission, request, packed, now, ct);
            await tx.CommitAsync(ct);
        }
        var answer = await acquirer.SendAsync(packed, ct);
        await SettleAsync(stan, transmission, answer?.GetString(IsoFields.ResponseCode), reversalAcknowledged: false, answer?.GetString(IsoFields.AuthCode),
            ct);
        var after = await orders.FindAsync(merchantId, orderId, ct);
        return (HoldRules.Refusal.None, after!.Status switch
        {
            OrderStatus.Paid => Outcome.Captured,
            OrderStatus.Capturing => Outcome.InFlight,
            _ => Outcome.Declined,
        }, after);
    }

    /// <summary>
    /// Releases a hold: its merchant's (a repeat of a release is answered as the first), or the platform's once it has expired.
    /// The order is released (or expired) and its merchant told in the transaction that records the reversal, which is then sent
    /// and, while unanswered, sent again.
    /// </summary>
    public async Task<(HoldRules.Refusal Refusal, Outcome Outcome, Order? Order)> ReleaseAsync(string merchantId, string orderId, string reason,
        CancellationToken ct)
    {
        using var activity = CardPayments.Telemetry.StartActivity("gateway release");
        activity?.SetTag("mesh.merchant_id", merchantId).SetTag("mesh.order_id", orderId).SetTag("mesh.reason", reason);
        var now = time.GetUtcNow();
        var order = await orders.FindAsync(merchantId, orderId, ct);
        if (reason == HoldReason.Merchant && HoldRules.ReleasedByMerchant(order))
        {
            return (HoldRules.Refusal.None, Outcome.Released, order);
        }
        if (HoldRules.OnRelease(order, reason, now) is not HoldRules.Refusal.None and var refusal)
        {
            return (refusal, Outcome.Refused, order);
        }
        if (await HeldPaymentAsync(merchantId, orderId, ct) is not { } hold)
        {
            return (HoldRules.Refusal.NotHeld, Outcome.Refused, order);
        }
        var stan = Acquirer.Stan(hold.Sequence);
        var request = Acquirer.Release(await acquirer.RevealPanAsync(hold.PanCiphertext, ct), hold.Expiry, order!.AmountMinor, order.Currency, stan, now,
            merchantId, hold.Stan, hold.Transmission);
        var packed = await acquirer.SignAndPackAsync(request, ct);
        var transmission = Acquirer.Transmission(now);
        var status = reason == HoldReason.Expired ? OrderStatus.Expired : OrderStatus.Released;
        await using (var connection = await db.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            await using var take = new NpgsqlCommand(
                $"""
                UPDATE orders SET status = $3, version = version + 1, response_code = NULL, result_message = $4, updated_at = $5
                WHERE merchant_id = $1 AND order_id = $2 AND status = '{OrderStatus.Authorized}' AND capture_mode = '{CaptureMode.Hold}'
                  AND ($6 = '{HoldReason.Merchant}' OR hold_expires_at <= $5)
                RETURNING version
                """, connection, tx);
            BatchSql.Bind(take, merchantId, orderId, status, reason == HoldReason.Expired ? ExpiredMessage : ReleasedMessage, now, reason);
            if (await take.ExecuteScalarAsync(ct) is not int version)
            {
                await tx.RollbackAsync(ct);
                var lost = await orders.FindAsync(merchantId, orderId, ct);
                return reason == HoldReason.Merchant && HoldRules.ReleasedByMerchant(lost)
                    ? (HoldRules.Refusal.None, Outcome.Released, lost)
                    : (Refused(HoldRules.OnRelease(lost, reason, now)), Outcome.Refused, lost);
            }
            await RecordAsync(connection, tx, HoldActionKind.Release, reason, merchantId, orderId, order.AmountMinor, order.Currency, hold, stan,
                transmission, request, packed, now, ct);
            await using var outbox = new NpgsqlBatch(connection, tx);
            foreach (var command in OutboxRows.For(new OutboxEvent(HoldKind, merchantId, orderId, version, status, order.AmountMinor, order.Currency, null,
                         hold.PanMasked, stan, transmission, request.GetString(IsoFields.Rrn), null, null, now, hold.IssuerId), now, [OutboxRows.Notification]))
            {
                outbox.BatchCommands.Add(command);
            }
            await outbox.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
        }
        notifications.Wake();
        logger.LogInformation("Hold of order {OrderId} of merchant {MerchantId} ({AmountMinor}) is {Status}", orderId, merchantId, order.AmountMinor, status);
        var answer = await acquirer.SendAsync(packed, ct);
        await SettleAsync(stan, transmission, answer?.GetString(IsoFields.ResponseCode), reversalAcknowledged: false, null, ct);
        return (HoldRules.Refusal.None, Outcome.Released, await orders.FindAsync(merchantId, orderId, ct));
    }

    /// <summary>A race lost at the order's row: what the winner left, as a refusal (a capture of the same hold still in flight if it is unchanged).</summary>
    private static HoldRules.Refusal Refused(HoldRules.Refusal refusal) => refusal == HoldRules.Refusal.None ? HoldRules.Refusal.CaptureInFlight : refusal;

    private async Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string kind, string reason, string merchantId, string orderId,
        long amountMinor, string currency, HeldPayment hold, string stan, string transmission, IsoMessage request, byte[] packed, DateTimeOffset now,
        CancellationToken ct)
    {
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO hold_actions (merchant_id, order_id, kind, reason, amount_minor, currency, payment_id, stan, transmission, rrn, request, status, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12)
            """, connection, tx);
        BatchSql.Bind(insert, merchantId, orderId, kind, reason, amountMinor, currency, hold.PaymentId, stan, transmission, request.GetString(IsoFields.Rrn)!,
            acquirer.WithoutPan(packed), now);
        await insert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Writes the switch's answer to a capture or release. A capture: approved → the order is paid at the amount captured, with
    /// the merchant's notification and the sale for settlement; an unknown outcome (no answer, 91, 96) until the switch has
    /// reversed it → still pending; anything else → failed, and the hold stands (authorized again). A release: any answer ends it
    /// (00: the switch owes the bank the reversal until acknowledged); no answer → still pending.
    /// </summary>
    public async Task SettleAsync(string stan, string transmission, string? code, bool reversalAcknowledged, string? authCode, CancellationToken ct)
    {
        var answer = new IssuerAnswer(code, reversalAcknowledged);
        if (code is null || answer.IsUnknown)
        {
            logger.LogWarning("Hold action STAN {Stan}: outcome unknown ({Code}); it is looked up again", stan, code ?? "no answer");
            return;
        }
        var now = time.GetUtcNow();
        var succeeded = code == ResponseCodes.Approved;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var answered = new NpgsqlCommand(
            """
            UPDATE hold_actions h SET status = $3, response_code = $4, auth_code = $5, answered_at = $6
            WHERE stan = $1 AND transmission = $2 AND status = 'pending'
            RETURNING merchant_id, order_id, kind, amount_minor, currency, rrn,
                (SELECT pan_masked FROM payments p WHERE p.payment_id = h.payment_id), (SELECT issuer_id FROM payments p WHERE p.payment_id = h.payment_id)
            """, connection, tx);
        BatchSql.Bind(answered, stan, transmission, succeeded ? "succeeded" : "failed", code, authCode, now);
        string merchantId, orderId, kind, currency, rrn, panMasked;
        string? issuerId;
        long amountMinor;
        await using (var row = await answered.ExecuteReaderAsync(ct))
        {
            if (!await row.ReadAsync(ct))
            {
                return; // already settled by another path
            }
            (merchantId, orderId, kind, amountMinor, currency, rrn, panMasked) = (row.GetString(0), row.GetString(1), row.GetString(2), row.GetInt64(3),
                row.GetString(4), row.GetString(5), row.GetString(6));
            issuerId = row.IsDBNull(7) ? null : row.GetString(7);
        }
        if (kind == HoldActionKind.Release)
        {
            await tx.CommitAsync(ct);
            Log(kind, orderId, merchantId, amountMinor, code);
            return;
        }
        await using var order = new NpgsqlCommand(succeeded
            ? $"""
              UPDATE orders SET status = '{OrderStatus.Paid}', version = version + 1, response_code = $4, result_message = $5, paid_minor = $3, paid_at = $6,
                  updated_at = $6
              WHERE merchant_id = $1 AND order_id = $2 AND status = '{OrderStatus.Capturing}' RETURNING version
              """
            : $"""
              UPDATE orders SET status = '{OrderStatus.Authorized}', updated_at = $6
              WHERE merchant_id = $1 AND order_id = $2 AND status = '{OrderStatus.Capturing}' RETURNING version
              """, connection, tx);
        BatchSql.Bind(order, merchantId, orderId, amountMinor, code, CapturedMessage, now);
        var version = await order.ExecuteScalarAsync(ct) as int?;
        Invariant.Holds(version is not null, "a capture in flight finds its order capturing");
        if (succeeded)
        {
            await using var outbox = new NpgsqlBatch(connection, tx);
            outbox.BatchCommands.Add(OutboxRows.For(new OutboxEvent(CaptureKind, merchantId, orderId, version!.Value, OrderStatus.Paid, amountMinor, currency,
                code, panMasked, stan, transmission, rrn, authCode, null, now, issuerId), now, [OutboxRows.Notification]).Single());
            outbox.BatchCommands.Add(OutboxRows.For(new OutboxEvent("purchase", merchantId, orderId, version.Value, OrderStatus.Paid, amountMinor, currency,
                code, panMasked, stan, transmission, rrn, authCode, null, now, issuerId), now, [OutboxRows.Settlement]).Single());
            await outbox.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        if (succeeded)
        {
            relay.Wake();
            notifications.Wake();
        }
        Log(kind, orderId, merchantId, amountMinor, code);
    }

    private void Log(string kind, string orderId, string merchantId, long amountMinor, string code) =>
        logger.LogInformation("Hold {Kind} of order {OrderId} of merchant {MerchantId} ({AmountMinor}): response {Code}", kind, orderId, merchantId,
            amountMinor, code);

    /// <summary>
    /// Captures and releases still pending past the resolve delay, looked up at the switch: one it never received is sent again
    /// (the same bytes: a repeat gets the first answer); one it answered is settled, a capture it is still reversing left for later.
    /// How many it looked up.
    /// </summary>
    public async Task<int> ResolveDueAsync(int batchSizeMax, CancellationToken ct)
    {
        await using var due = db.CreateCommand(
            """
            SELECT h.stan, h.transmission, h.request, p.pan_ciphertext FROM hold_actions h JOIN payments p ON p.payment_id = h.payment_id
            WHERE h.status = 'pending' AND h.created_at < $1 ORDER BY h.created_at LIMIT $2
            """);
        BatchSql.Bind(due, time.GetUtcNow().AddMilliseconds(-options.Value.ResolveAfterMs), batchSizeMax);
        var pending = new List<(string Stan, string Transmission, byte[] Request, byte[] PanCiphertext)>();
        await using (var row = await due.ExecuteReaderAsync(ct))
        {
            while (await row.ReadAsync(ct))
            {
                pending.Add((row.GetString(0), row.GetString(1), row.GetFieldValue<byte[]>(2), row.GetFieldValue<byte[]>(3)));
            }
        }
        foreach (var (stan, transmission, request, panCiphertext) in pending)
        {
            var outcome = await acquirer.OutcomeAsync(stan, transmission, ct);
            if (!outcome.Received)
            {
                var answer = await acquirer.SendAsync(await acquirer.WithPanAsync(request, panCiphertext, ct), ct);
                await SettleAsync(stan, transmission, answer?.GetString(IsoFields.ResponseCode), false, answer?.GetString(IsoFields.AuthCode), ct);
                continue;
            }
            if (outcome.ResponseCode.Length == 0 || outcome.Reversal == Mesh.Contracts.Switch.ReversalState.Pending)
            {
                continue; // still being decided, or still being reversed
            }
            var answered = outcome.Answer.IsEmpty ? null : await acquirer.ReadAnswerAsync(outcome.Answer.Memory, ct);
            var code = answered?.GetString(IsoFields.ResponseCode) ?? outcome.ResponseCode;
            await SettleAsync(stan, transmission, code, code is ResponseCodes.IssuerUnavailable or ResponseCodes.SystemMalfunction,
                answered?.GetString(IsoFields.AuthCode), ct);
        }
        return pending.Count;
    }

    /// <summary>The approved hold of an order, and a STAN for the request that captures or releases it; null when there is none.</summary>
    private async Task<HeldPayment?> HeldPaymentAsync(string merchantId, string orderId, CancellationToken ct)
    {
        await using var read = db.CreateCommand(
            """
            SELECT payment_id, pan_ciphertext, expiry, stan, transmission, pan_masked, issuer_id, nextval('acquirer_stan')
            FROM payments WHERE merchant_id = $1 AND order_id = $2 AND status = 'approved'
            """);
        BatchSql.Bind(read, merchantId, orderId);
        await using var row = await read.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct)
            ? new HeldPayment(row.GetInt64(0), row.GetFieldValue<byte[]>(1), row.GetString(2), row.GetString(3), row.GetString(4), row.GetString(5),
                row.IsDBNull(6) ? null : row.GetString(6), row.GetInt64(7))
            : null;
    }
}
