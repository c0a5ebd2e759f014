using System.Diagnostics;
using System.Security.Cryptography;
using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Metrics;
using Mesh.Gateway.Notifications;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Outbox;
using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Payments;

/// <summary>How a card payment ended for the consumer.</summary>
public enum PaymentResult
{
    Approved,
    Declined,
    /// <summary>A wrong PIN with tries left: the page asks again.</summary>
    WrongPin,
    /// <summary>The outcome is unknown: the order stays pending until the switch's reversal is acknowledged.</summary>
    Pending,
    /// <summary>The session or order was not payable (expired, paid elsewhere, submitted twice).</summary>
    NotPayable,
    /// <summary>The PIN ciphertext could not be read: nothing was sent.</summary>
    BadPin,
}

/// <summary>How a payment ended; a final state carries the merchant's <paramref name="Notification"/>, written with it, for the page's path to deliver.</summary>
public sealed record PaymentOutcome(PaymentResult Result, string? ResponseCode, string Message, int WrongPinsLeft = 0, OwedNotification? Notification = null);

/// <summary>
/// One card payment as stored before it is sent: what is needed to send it again or settle it.
/// <paramref name="Request"/> is the packed request; the database keeps it without the card number
/// (<see cref="Acquirer.WithoutPan"/>), which it holds only encrypted.
/// </summary>
public sealed record PaymentAttempt(long PaymentId, string MerchantId, string OrderId, string SessionId, long AmountMinor,
    string Currency, string PanMasked, string Stan, string Transmission, string Rrn, byte[] Request);

/// <summary>
/// A card payment from the page to the issuer and back. The payment is stored (with its packed
/// request) before it is sent, so an unknown outcome can be looked up or sent again; the answer,
/// the order's new state and its outbox rows are written in one transaction.
/// </summary>
public sealed class CardPayments(
    NpgsqlDataSource db,
    PaymentSessions sessions,
    Acquirer acquirer,
    GatewayMetrics metrics,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<CardPayments> logger)
{
    public static readonly ActivitySource Telemetry = new("Mesh.Gateway");

    /// <summary>How long the dispatcher leaves a notification to the page's path, which tries it first.</summary>
    public static readonly TimeSpan InlineDeliveryLease = TimeSpan.FromSeconds(60);

    public async Task<PaymentOutcome> PayAsync(PaymentSession session, Order order, Pan pan, string expiry, EncryptedPin pin, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var outcome = await AuthorizeAsync(session, order, pan, expiry, pin, ct);
        metrics.Paid(ResultTag(outcome.Result), outcome.ResponseCode, time.GetElapsedTime(started).TotalMilliseconds);
        return outcome;
    }

    private static string ResultTag(PaymentResult result) => result switch
    {
        PaymentResult.Approved => "approved",
        PaymentResult.Declined => "declined",
        PaymentResult.WrongPin => "wrong_pin",
        PaymentResult.Pending => "pending",
        PaymentResult.NotPayable => "not_payable",
        PaymentResult.BadPin => "bad_pin",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, null),
    };

    private async Task<PaymentOutcome> AuthorizeAsync(PaymentSession session, Order order, Pan pan, string expiry, EncryptedPin pin, CancellationToken ct)
    {
        using var activity = Telemetry.StartActivity("gateway purchase");
        activity?.SetTag("mesh.merchant_id", order.MerchantId).SetTag("mesh.order_id", order.OrderId).SetTag("mesh.pan", pan.Masked)
            .SetTag("mesh.amount_minor", order.AmountMinor);
        var stan = Acquirer.Stan(await sessions.NextStanAsync(ct));
        var now = time.GetUtcNow();
        var request = Acquirer.Purchase(pan, expiry, order.AmountMinor, order.Currency, stan, now, order.MerchantId);
        // A PIN the Hsm cannot read leaves a gap in the STANs: nothing was sent under that one.
        if (await acquirer.SealPurchaseAsync(request, pin, pan, ct) is not { } sealedPurchase)
        {
            return new PaymentOutcome(PaymentResult.BadPin, null, "The PIN could not be read. Please enter it again.");
        }
        if (await ClaimAndRecordAsync(session, order, pan, expiry, sealedPurchase, stan, request, now, ct) is not { } attempt)
        {
            return new PaymentOutcome(PaymentResult.NotPayable, null, "This payment page can no longer be used.");
        }
        activity?.SetTag("iso8583.stan", stan).SetTag("iso8583.rrn", attempt.Rrn);
        var answer = await acquirer.SendAsync(sealedPurchase.Packed, ct);
        var code = answer?.GetString(IsoFields.ResponseCode);
        activity?.SetTag("iso8583.response_code", code ?? "none");
        return await SettleAsync(attempt, code, answer?.GetString(IsoFields.AuthCode), reversalAcknowledged: false, ct, consumerWaiting: true,
                answer?.GetString(IsoFields.ReceivingInstitution))
            ?? new PaymentOutcome(PaymentResult.Pending, code, "Payment pending.");
    }

    /// <summary>Claims the session and its order and records the signed request as a payment, in one transaction; null when no longer payable.</summary>
    private async Task<PaymentAttempt?> ClaimAndRecordAsync(PaymentSession session, Order order, Pan pan, string expiry,
        Acquirer.SealedPurchase sealedPurchase, string stan, IsoMessage request, DateTimeOffset now, CancellationToken ct)
    {
        var transmission = request.GetString(IsoFields.TransmissionDateTime)!;
        var rrn = request.GetString(IsoFields.Rrn)!;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var insert = new NpgsqlCommand(PaymentSessions.ClaimSql +
            """
            INSERT INTO payments (merchant_id, order_id, session_id, pan_masked, pan_ciphertext, pan_hash, expiry, amount_minor, currency, stan,
                                  transmission, rrn, request, status, created_at)
            SELECT merchant_id, order_id, $1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'sent', $2 FROM claimed
            RETURNING payment_id
            """, connection, tx);
        BatchSql.Bind(insert, session.SessionId, now, pan.Masked, sealedPurchase.PanCiphertext, sealedPurchase.PanLookupHash, expiry,
            order.AmountMinor, order.Currency, stan, transmission, rrn, acquirer.WithoutPan(sealedPurchase.Packed));
        if (await insert.ExecuteScalarAsync(ct) is not long paymentId)
        {
            // The session was taken but not its order (paid elsewhere, or a new attempt): the session stays as it was.
            await tx.RollbackAsync(ct);
            return null;
        }
        await tx.CommitAsync(ct);
        return new PaymentAttempt(paymentId, order.MerchantId, order.OrderId, session.SessionId, order.AmountMinor, order.Currency,
            pan.Masked, stan, transmission, rrn, sealedPurchase.Packed);
    }

    /// <summary>
    /// Writes what the answer means: approved → paid; a wrong PIN with tries left (counted on the
    /// order, <see cref="GatewayOptions.WrongPinsMax"/> in all) → the page asks again; 91/96 or no
    /// answer → pending until the reversal is acknowledged; anything else → failed. Null when the
    /// outcome is still unknown. Applied once: a payment already settled by another path (the
    /// resolver) is left as it is. With the consumer waiting, the merchant's
    /// notification is first tried on the page's path (<see cref="Notifications.ResultDelivery"/>):
    /// the dispatcher leaves it alone for a while.
    /// </summary>
    public async Task<PaymentOutcome?> SettleAsync(PaymentAttempt attempt, string? code, string? authCode, bool reversalAcknowledged, CancellationToken ct,
        bool consumerWaiting = false, string? issuerId = null)
    {
        var now = time.GetUtcNow();
        var unknown = code is null or ResponseCodes.IssuerUnavailable or ResponseCodes.SystemMalfunction;
        if (unknown && !reversalAcknowledged)
        {
            await using var mark = db.CreateCommand(
                "UPDATE payments SET status = 'unknown', response_code = $2 WHERE payment_id = $1 AND status = 'sent'");
            BatchSql.Bind(mark, attempt.PaymentId, code);
            await mark.ExecuteNonQueryAsync(ct);
            await CloseSessionAsync(attempt.SessionId, ct);
            logger.LogWarning("Payment STAN {Stan} of order {OrderId}: outcome unknown ({Code}); pending until the switch's reversal is acknowledged",
                attempt.Stan, attempt.OrderId, code ?? "no answer");
            return null;
        }
        var status = unknown ? "reversed" : code == ResponseCodes.Approved ? "approved" : "declined";
        var orderStatus = code == ResponseCodes.Approved ? OrderStatus.Paid : OrderStatus.Failed;

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var wrongPins = 0;
        if (code == WrongPinCode)
        {
            if (await CountWrongPinAsync(attempt, connection, tx, ct) is not { } counted)
            {
                await tx.RollbackAsync(ct);
                return new PaymentOutcome(PaymentResult.NotPayable, code, "This payment was already completed.");
            }
            wrongPins = counted;
        }
        var retry = code == WrongPinCode && wrongPins < options.Value.WrongPinsMax;
        var message = code == WrongPinCode && !retry
            ? $"The PIN was wrong {wrongPins} times: the payment has failed."
            : ConsumerMessages.For(code);
        const string Answered =
            """
            UPDATE payments SET status = $2, response_code = $3, auth_code = $4, answered_at = $5, issuer_id = $6
            WHERE payment_id = $1 AND status IN ('sent', 'unknown')
            """;
        if (retry)
        {
            await using var answered = new NpgsqlCommand(Answered, connection, tx);
            BatchSql.Bind(answered, attempt.PaymentId, status, code, authCode, now, issuerId);
            if (await answered.ExecuteNonQueryAsync(ct) == 0)
            {
                await tx.RollbackAsync(ct);
                return new PaymentOutcome(PaymentResult.NotPayable, code, "This payment was already completed.");
            }
            await using var again = new NpgsqlBatch(connection, tx)
            {
                BatchCommands =
                {
                    BatchSql.Command("UPDATE orders SET status = 'created', updated_at = $3 WHERE merchant_id = $1 AND order_id = $2 AND status = 'pending'",
                        attempt.MerchantId, attempt.OrderId, now),
                    BatchSql.Command("UPDATE payment_sessions SET status = 'open', pin_nonce = $2 WHERE session_id = $1",
                        attempt.SessionId, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))),
                },
            };
            await again.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            return new PaymentOutcome(PaymentResult.WrongPin, code, message, options.Value.WrongPinsMax - wrongPins);
        }
        // The payment's answer, its session closed, the order's final state and its two outbox rows in one statement, which reads back the
        // notification for the page's path to deliver: no row when the payment was already answered by another path. The payload's order
        // version is the one the statement writes.
        await using var final = new NpgsqlCommand(
            $"""
            WITH answered AS ({Answered} RETURNING payment_id),
            closed AS (UPDATE payment_sessions SET status = 'done' WHERE session_id = $11 AND EXISTS (SELECT FROM answered)),
            o AS (
                UPDATE orders SET status = $9, version = version + 1, response_code = $3, result_message = $10,
                    paid_minor = CASE WHEN $9 = 'paid' THEN amount_minor ELSE 0 END, paid_at = CASE WHEN $9 = 'paid' THEN $5 END, updated_at = $5
                WHERE merchant_id = $7 AND order_id = $8 AND status = 'pending' AND EXISTS (SELECT FROM answered) RETURNING *),
            x AS (
                INSERT INTO outbox (topic, merchant_id, order_id, order_version, payload, created_at, next_attempt_at)
                SELECT t.topic, o.merchant_id, o.order_id, o.version, jsonb_set($12, $14, to_jsonb(o.version)), $5, t.due
                FROM o CROSS JOIN (VALUES ('{OutboxRows.Notification}', $13::timestamptz), ('{OutboxRows.Settlement}', NULL)) t (topic, due)
                RETURNING *)
            SELECT {OwedNotification.Columns}
            FROM o JOIN merchants m ON m.merchant_id = o.merchant_id JOIN x ON x.topic = '{OutboxRows.Notification}'
            """, connection, tx);
        BatchSql.Bind(final, attempt.PaymentId, status, code, authCode, now, issuerId, attempt.MerchantId, attempt.OrderId, orderStatus, message,
            attempt.SessionId,
            OutboxRows.Jsonb(OutboxRows.Payload(new OutboxEvent("purchase", attempt.MerchantId, attempt.OrderId, 0, orderStatus, attempt.AmountMinor,
                attempt.Currency, code, attempt.PanMasked, attempt.Stan, attempt.Transmission, attempt.Rrn, authCode, null, now, issuerId))),
            consumerWaiting ? now.Add(InlineDeliveryLease) : now, OutboxRows.OrderVersionPath);
        OwedNotification? owed = null;
        await using (var row = await final.ExecuteReaderAsync(ct))
        {
            if (await row.ReadAsync(ct))
            {
                owed = OwedNotification.Read(row, 0);
            }
        }
        if (owed is null)
        {
            await tx.RollbackAsync(ct);
            return new PaymentOutcome(PaymentResult.NotPayable, code, "This payment was already completed.");
        }
        await tx.CommitAsync(ct);
        logger.LogInformation("Order {OrderId} of merchant {MerchantId} is {Status}: response {Code}, card {Pan}, STAN {Stan}",
            attempt.OrderId, attempt.MerchantId, orderStatus, code, attempt.PanMasked, attempt.Stan);
        return new PaymentOutcome(orderStatus == OrderStatus.Paid ? PaymentResult.Approved : PaymentResult.Declined, code, message, Notification: owed);
    }

    /// <summary>The issuer's answer to a wrong PIN.</summary>
    public const string WrongPinCode = "55";

    /// <summary>
    /// Counts a wrong PIN on the order (not on the page's session, so a new page does not start the
    /// count again) and returns the order's wrong PINs so far; null when the payment was already
    /// answered by another path. The payment's row is locked first, so the page's path and the
    /// resolver cannot both count one answer.
    /// </summary>
    private static async Task<int?> CountWrongPinAsync(PaymentAttempt attempt, NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var count = new NpgsqlCommand(
            """
            WITH p AS (SELECT payment_id FROM payments WHERE payment_id = $1 AND status IN ('sent', 'unknown') FOR UPDATE)
            UPDATE orders SET wrong_pins = wrong_pins + 1
            WHERE merchant_id = $2 AND order_id = $3 AND EXISTS (SELECT FROM p)
            RETURNING wrong_pins
            """, connection, tx);
        BatchSql.Bind(count, attempt.PaymentId, attempt.MerchantId, attempt.OrderId);
        return await count.ExecuteScalarAsync(ct) is int wrongPins ? wrongPins : null;
    }

    private async Task CloseSessionAsync(string sessionId, CancellationToken ct)
    {
        await using var close = db.CreateCommand("UPDATE payment_sessions SET status = 'done' WHERE session_id = $1");
        BatchSql.Bind(close, sessionId);
        await close.ExecuteNonQueryAsync(ct);
    }
}
