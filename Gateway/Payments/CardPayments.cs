using System.Diagnostics;
using System.Net;
using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Metrics;
using Mesh.Gateway.Notifications;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Outbox;
using Mesh.Gateway.Risk;
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
    /// <summary>A credit card's bank sent the cardholder a one-time code (1A): the page asks for it.</summary>
    CodeRequired,
    /// <summary>The one-time code was wrong, with tries left at the bank (63): the page asks again.</summary>
    WrongCode,
}

/// <summary>
/// How a payment ended; a final state carries the merchant's <paramref name="Notification"/>, written with it, for the page's path to
/// deliver, and the <paramref name="Order"/> as it now is with its <paramref name="MerchantName"/>, for the consumer's result.
/// </summary>
public sealed record PaymentOutcome(PaymentResult Result, string? ResponseCode, string Message, int WrongPinsLeft = 0, OwedNotification? Notification = null,
    Order? Order = null, string? MerchantName = null);

/// <summary>
/// One card payment as stored before it is sent: what is needed to send it again or settle it.
/// <paramref name="Request"/> is the packed request; the database keeps it without the card number
/// (<see cref="Acquirer.WithoutPan"/>), which it holds only encrypted.
/// </summary>
public sealed record PaymentAttempt(long PaymentId, string MerchantId, string OrderId, string SessionId, long AmountMinor,
    string Currency, string PanMasked, string Stan, string Transmission, string Rrn, byte[] Request, bool WithCode = false);

/// <summary>The payment a credit card's bank answered 1A, which the purchase sent again with the one-time code names.</summary>
public sealed record ChallengedPayment(long PaymentId, byte[] PanCiphertext, string PanMasked, string Expiry, string Stan, string Transmission);

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
    SettlementRelay relay,
    NotificationDispatcher notifications,
    PaymentsInDoubt inDoubt,
    RiskStore risk,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<CardPayments> logger)
{
    /// <summary>What the consumer reads once the bank refuses a payment for too many wrong one-time codes.</summary>
    public const string TooManyCodesMessage = "Too many wrong verification codes: the payment has failed. Nothing was charged.";

    public static readonly ActivitySource Telemetry = new("Mesh.Gateway");

    /// <summary>How long the dispatcher leaves a notification to the page's path, which tries it first.</summary>
    public static readonly TimeSpan InlineDeliveryLease = TimeSpan.FromSeconds(60);

    private readonly BusinessDay _day = BusinessDay.TryFrom(options.Value)!;

    /// <summary>A payment of the consumer at <paramref name="network"/> (the client address the gateway sees), risk controls first.</summary>
    public async Task<PaymentOutcome> PayAsync(PaymentSession session, Pan pan, string expiry, EncryptedPin pin, IPAddress? network, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var outcome = await AuthorizeAsync(session, pan, expiry, pin, network, ct);
        metrics.Paid(ResultTag(outcome.Result), outcome.ResponseCode, time.GetElapsedTime(started));
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
        PaymentResult.CodeRequired => "code_required",
        PaymentResult.WrongCode => "wrong_code",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, null),
    };

    private async Task<PaymentOutcome> AuthorizeAsync(PaymentSession session, Pan pan, string expiry, EncryptedPin pin, IPAddress? network,
        CancellationToken ct)
    {
        using var activity = StartPurchase(session, pan, "debit");
        var stan = Acquirer.Stan(await sessions.NextStanAsync(ct));
        var now = time.GetUtcNow();
        var request = session.Hold
            ? Acquirer.PreAuthorization(pan, expiry, session.AmountMinor, session.Currency, stan, now, session.MerchantId)
            : Acquirer.Purchase(pan, expiry, session.AmountMinor, session.Currency, stan, now, session.MerchantId);
        // A PIN the Hsm cannot read leaves a gap in the STANs: nothing was sent under that one.
        if (await acquirer.SealPurchaseAsync(request, pin, pan, ct) is not { } sealedPurchase)
        {
            return new PaymentOutcome(PaymentResult.BadPin, null, "The PIN could not be read. Please enter it again.");
        }
        return await ClaimSendAndSettleAsync(session, pan, expiry, sealedPurchase, stan, request, now, null, network, activity, ct);
    }

    /// <summary>A credit card's purchase: expiry and CVV2, no PIN. The CVV2 goes to the bank once, and is kept nowhere.</summary>
    public async Task<PaymentOutcome> PayCreditAsync(PaymentSession session, Pan pan, string expiry, string cvv2, IPAddress? network, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        using var activity = StartPurchase(session, pan, "credit");
        var stan = Acquirer.Stan(await sessions.NextStanAsync(ct));
        var now = time.GetUtcNow();
        var request = Acquirer.CreditPurchase(pan, expiry, cvv2, session.AmountMinor, session.Currency, stan, now, session.MerchantId);
        var sealedPurchase = await acquirer.SealCardNotPresentAsync(request, pan, ct);
        var outcome = await ClaimSendAndSettleAsync(session, pan, expiry, sealedPurchase, stan, request, now, null, network, activity, ct);
        metrics.Paid(ResultTag(outcome.Result), outcome.ResponseCode, time.GetElapsedTime(started));
        return outcome;
    }

    /// <summary>
    /// The purchase the bank answered 1A, sent again with the one-time code the cardholder received: the same card
    /// (its number from the challenged payment, decrypted in the Hsm), amount and order, the code once and kept nowhere.
    /// </summary>
    public async Task<PaymentOutcome> PayWithCodeAsync(PaymentSession session, string code, IPAddress? network, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        if (await ChallengeAsync(session, ct) is not { } challenge
            || !Pan.TryParse(await acquirer.RevealPanAsync(challenge.PanCiphertext, ct), out var pan))
        {
            return new PaymentOutcome(PaymentResult.NotPayable, null, "This payment page can no longer be used.");
        }
        using var activity = StartPurchase(session, pan, "credit");
        activity?.SetTag("mesh.one_time_code", true);
        var stan = Acquirer.Stan(await sessions.NextStanAsync(ct));
        var now = time.GetUtcNow();
        var request = Acquirer.PurchaseWithCode(pan, challenge.Expiry, code, session.AmountMinor, session.Currency, stan, now, session.MerchantId,
            challenge.Stan, challenge.Transmission);
        var sealedPurchase = await acquirer.SealCardNotPresentAsync(request, pan, ct);
        var outcome = await ClaimSendAndSettleAsync(session, pan, challenge.Expiry, sealedPurchase, stan, request, now, challenge.PaymentId, network,
            activity, ct);
        metrics.Paid(ResultTag(outcome.Result), outcome.ResponseCode, time.GetElapsedTime(started));
        return outcome;
    }

    /// <summary>The payment of this session's order whose bank asked for a one-time code, while the order waits for it; null otherwise.</summary>
    public async Task<ChallengedPayment?> ChallengeAsync(PaymentSession session, CancellationToken ct)
    {
        await using var find = db.CreateCommand(
            """
            SELECT p.payment_id, p.pan_ciphertext, p.pan_masked, p.expiry, p.stan, p.transmission
            FROM orders o JOIN payments p ON p.payment_id = o.otp_payment_id
            WHERE o.merchant_id = $1 AND o.order_id = $2 AND o.status = 'created' AND o.attempts = $3
            """);
        BatchSql.Bind(find, session.MerchantId, session.OrderId, session.OrderAttempt);
        await using var row = await find.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct)
            ? new ChallengedPayment(row.GetInt64(0), row.GetFieldValue<byte[]>(1), row.GetString(2), row.GetString(3), row.GetString(4), row.GetString(5))
            : null;
    }

    private static Activity? StartPurchase(PaymentSession session, Pan pan, string product)
    {
        var activity = Telemetry.StartActivity("gateway purchase");
        activity?.SetTag("mesh.merchant_id", session.MerchantId).SetTag("mesh.order_id", session.OrderId).SetTag("mesh.pan", pan.Masked)
            .SetTag("mesh.amount_minor", session.AmountMinor).SetTag("mesh.card_product", product);
        return activity;
    }

    private async Task<PaymentOutcome> ClaimSendAndSettleAsync(PaymentSession session, Pan pan, string expiry, Acquirer.SealedPurchase sealedPurchase,
        string stan, IsoMessage request, DateTimeOffset now, long? challengedPaymentId, IPAddress? network, Activity? activity, CancellationToken ct)
    {
        var (attempt, refusal) = await CheckAndClaimAsync(session, pan, expiry, sealedPurchase, stan, request, now, challengedPaymentId, network, ct);
        if (refusal is not null)
        {
            activity?.SetTag("mesh.risk_rule", refusal);
            return await RefuseAsync(session, pan, refusal, network, now, ct);
        }
        if (attempt is null)
        {
            return NoLongerPayable();
        }
        activity?.SetTag("iso8583.stan", stan).SetTag("iso8583.rrn", attempt.Rrn);
        var answer = await acquirer.SendAsync(sealedPurchase.Packed, ct);
        var code = answer?.GetString(IsoFields.ResponseCode);
        activity?.SetTag("iso8583.response_code", code ?? "none");
        return await SettleAsync(attempt, code, answer?.GetString(IsoFields.AuthCode), reversalAcknowledged: false, ct, consumerWaiting: true,
                answer?.GetString(IsoFields.ReceivingInstitution))
            ?? new PaymentOutcome(PaymentResult.Pending, code, "Payment pending.");
    }

    private static PaymentOutcome NoLongerPayable() => new(PaymentResult.NotPayable, null, "This payment page can no longer be used.");

    /// <summary>
    /// The risk controls, then the claim: a blocked card or network and the per-payment limit are read first; the
    /// merchant's day and the card's window are taken (<see cref="RiskStore.HoldAsync"/>) in the claim's transaction, so a
    /// refusal or a claim that fails takes nothing, and two racing payments queue on the counters' rows. A refusal's code,
    /// or the attempt (null when the order is no longer payable in this session).
    /// </summary>
    private async Task<(PaymentAttempt? Attempt, string? Refusal)> CheckAndClaimAsync(PaymentSession session, Pan pan, string expiry,
        Acquirer.SealedPurchase sealedPurchase, string stan, IsoMessage request, DateTimeOffset now, long? challengedPaymentId, IPAddress? network,
        CancellationToken ct)
    {
        if (await risk.BlockedAsync(sealedPurchase.PanLookupHash, network, ct) is { } blocked)
        {
            return (null, blocked);
        }
        var limits = await risk.LimitsAsync(session.MerchantId, session.Currency, ct);
        if (limits.RefusesPayment(session.AmountMinor) is { } overLimit)
        {
            return (null, overLimit);
        }
        var velocity = await risk.VelocityAsync(ct);
        var hold = new RiskHold(session.MerchantId, session.Currency, DateOnly.FromDateTime(_day.EndOf(now).AddTicks(-1).DateTime),
            sealedPurchase.PanLookupHash, velocity.WindowStart(now), session.AmountMinor);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await RiskStore.HoldAsync(hold, limits.PerDayMinor, velocity, connection, tx, ct) is { } overCounter)
        {
            await tx.RollbackAsync(ct);
            return (null, overCounter);
        }
        if (await ClaimAndRecordAsync(session, pan, expiry, sealedPurchase, stan, request, now, challengedPaymentId, new NpgsqlCommand(null, connection, tx), ct)
            is not { } attempt)
        {
            await tx.RollbackAsync(ct);
            return (null, null);
        }
        await RiskStore.RecordHoldAsync(attempt.PaymentId, hold, connection, tx, ct);
        await tx.CommitAsync(ct);
        return (attempt, null);
    }

    /// <summary>
    /// A payment the risk controls refused, before anything went to the switch: in one statement, while the order is
    /// still payable in this session, it fails with the rule's code (the merchant's answers and notification carry it),
    /// its notification is owed, and the refusal is recorded with the masked card and the consumer's address. The
    /// consumer's message names no list (<see cref="RiskCodes.ConsumerMessage"/>).
    /// </summary>
    private async Task<PaymentOutcome> RefuseAsync(PaymentSession session, Pan pan, string rule, IPAddress? network, DateTimeOffset now,
        CancellationToken ct)
    {
        var message = RiskCodes.ConsumerMessage(rule);
        await using var refuse = db.CreateCommand(
            $"""
            WITH o AS (
                UPDATE orders o SET status = '{OrderStatus.Failed}', version = o.version + 1, response_code = $5, result_message = $6, paid_minor = 0,
                    updated_at = $1
                WHERE o.merchant_id = $2 AND o.order_id = $3 AND o.status = 'created' AND o.attempts = $7 AND o.wrong_pins = $8 AND o.pay_by > $1
                  AND o.amount_minor = $9 AND o.currency = $10
                RETURNING *),
            r AS (
                INSERT INTO risk_refusals (merchant_id, order_id, rule, amount_minor, currency, pan_masked, network, detail, refused_at)
                SELECT merchant_id, order_id, $5, amount_minor, currency, $4, $11::inet, $12, $1 FROM o),
            x AS (
                INSERT INTO outbox (topic, merchant_id, order_id, order_version, payload, created_at, next_attempt_at)
                SELECT '{OutboxRows.Notification}', o.merchant_id, o.order_id, o.version, jsonb_set($13, $14, to_jsonb(o.version)), $1, $15 FROM o
                RETURNING *)
            SELECT {OwedNotification.Columns}, m.name, {OrderBook.SelectList}
            FROM o JOIN merchants m ON m.merchant_id = o.merchant_id JOIN x ON true {OrderBook.LatestPayment}
            """);
        BatchSql.Bind(refuse, now, session.MerchantId, session.OrderId, pan.Masked, rule, message, session.OrderAttempt, session.WrongPins,
            session.AmountMinor, session.Currency, network, $"refused before the switch: {rule}",
            OutboxRows.Jsonb(OutboxRows.Payload(new OutboxEvent("purchase", session.MerchantId, session.OrderId, 0, OrderStatus.Failed, session.AmountMinor,
                session.Currency, rule, pan.Masked, "", "", null, null, null, now))),
            OutboxRows.OrderVersionPath, now.Add(InlineDeliveryLease));
        await using var row = await refuse.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            return NoLongerPayable();
        }
        var owed = OwedNotification.Read(row, 0);
        var merchantName = row.GetString(OwedNotification.ColumnCount);
        var order = OrderBook.Read(row, OwedNotification.ColumnCount + 1);
        logger.LogWarning("Order {OrderId} of merchant {MerchantId} refused by risk controls: {Rule}, card {Pan}", session.OrderId, session.MerchantId,
            rule, pan.Masked);
        return new PaymentOutcome(PaymentResult.Declined, rule, message, Notification: owed, Order: order, MerchantName: merchantName);
    }

    /// <summary>
    /// Claims the order for one payment and records the signed request, in one statement: null when
    /// the order is no longer payable in this session (a double submit, a form sent again after a
    /// wrong PIN, an order paid elsewhere, closed, past its pay-by time, or of another attempt). The
    /// order's row is the only guard, so two submits of one page, or two pages of one order, cannot
    /// both claim it. The payment is recorded in the same statement as the claim, after the request
    /// is signed, so a crash, a lost database or a failed Hsm call can never leave an order pending
    /// without the payment that would settle it. A purchase sent again with a one-time code claims the order only while it
    /// still waits for the code of <paramref name="challengedPaymentId"/>. What is stored is the request that may be sent
    /// again: never one that carries a CVV2 or a one-time code (<see cref="Acquirer.SealedPurchase.Storable"/>).
    /// </summary>
    private async Task<PaymentAttempt?> ClaimAndRecordAsync(PaymentSession session, Pan pan, string expiry,
        Acquirer.SealedPurchase sealedPurchase, string stan, IsoMessage request, DateTimeOffset now, long? challengedPaymentId, NpgsqlCommand command,
        CancellationToken ct)
    {
        var transmission = request.GetString(IsoFields.TransmissionDateTime)!;
        var rrn = request.GetString(IsoFields.Rrn)!;
        await using var claim = command;
        claim.CommandText =
            """
            WITH claimed AS (
                UPDATE orders o SET status = 'pending', updated_at = $2
                WHERE o.merchant_id = $13 AND o.order_id = $14 AND o.status = 'created' AND o.attempts = $15 AND o.wrong_pins = $16 AND o.pay_by > $2
                  AND o.amount_minor = $7 AND o.currency = $8 AND ($17::bigint IS NULL OR o.otp_payment_id = $17) AND o.capture_mode = $18
                RETURNING o.merchant_id, o.order_id)
            INSERT INTO payments (merchant_id, order_id, session_id, pan_masked, pan_ciphertext, pan_hash, expiry, amount_minor, currency, stan,
                                  transmission, rrn, request, status, created_at)
            SELECT merchant_id, order_id, $1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'sent', $2 FROM claimed
            RETURNING payment_id
            """;
        BatchSql.Bind(claim, session.SessionId, now, pan.Masked, sealedPurchase.PanCiphertext, sealedPurchase.PanLookupHash, expiry,
            session.AmountMinor, session.Currency, stan, transmission, rrn, acquirer.WithoutPan(sealedPurchase.Storable), session.MerchantId,
            session.OrderId, session.OrderAttempt, session.WrongPins, challengedPaymentId, session.Hold ? CaptureMode.Hold : CaptureMode.Sale);
        if (await claim.ExecuteScalarAsync(ct) is not long paymentId)
        {
            return null;
        }
        return new PaymentAttempt(paymentId, session.MerchantId, session.OrderId, session.SessionId, session.AmountMinor, session.Currency,
            pan.Masked, stan, transmission, rrn, sealedPurchase.Packed, WithCode: challengedPaymentId is not null);
    }

    /// <summary>
    /// Writes what the answer means (<see cref="IssuerAnswer"/>): approved → paid; a wrong PIN with
    /// tries left (counted on the order, <see cref="GatewayOptions.WrongPinsMax"/> in all) → the page
    /// asks again; 91/96 or no answer → pending until the reversal is acknowledged; anything else →
    /// failed. Null when the outcome is still unknown. Applied once: a payment already settled by another path (the
    /// resolver) is left as it is. With the consumer waiting, the merchant's
    /// notification is first tried on the page's path (<see cref="Notifications.ResultDelivery"/>):
    /// the dispatcher leaves it alone for a while.
    /// </summary>
    public async Task<PaymentOutcome?> SettleAsync(PaymentAttempt attempt, string? code, string? authCode, bool reversalAcknowledged, CancellationToken ct,
        bool consumerWaiting = false, string? issuerId = null)
    {
        var answer = new IssuerAnswer(code, reversalAcknowledged);
        if (answer.IsUnknown)
        {
            await using var mark = db.CreateCommand(
                "UPDATE payments SET status = 'unknown', response_code = $2 WHERE payment_id = $1 AND status = 'sent'");
            BatchSql.Bind(mark, attempt.PaymentId, code);
            if (await mark.ExecuteNonQueryAsync(ct) > 0)
            {
                inDoubt.Wake();
            }
            logger.LogWarning("Payment STAN {Stan} of order {OrderId}: outcome unknown ({Code}); pending until the switch's reversal is acknowledged",
                attempt.Stan, attempt.OrderId, code ?? "no answer");
            return null;
        }
        var final = new FinalAnswer(attempt, answer, authCode, issuerId, time.GetUtcNow(), consumerWaiting);
        if (answer.PaymentStatus != "approved")
        {
            // A declined or reversed payment (or one whose bank asked for a one-time code: the purchase sent again with
            // the code holds again) gives back the amount it held of its merchant's day and its card's window.
            await risk.ReleaseAsync(attempt.PaymentId, ct);
        }
        if (answer.AsksForCode)
        {
            return await AwaitCodeAsync(final, ct);
        }
        if (!answer.IsWrongPin)
        {
            // One statement, committed on its own (its reader is closed when it returns): nothing to undo when the payment was
            // already answered by another path.
            var message = attempt.WithCode && code == ResponseCodes.TriesExceeded
                ? TooManyCodesMessage
                : ConsumerMessages.For(code);
            return Committed(await WriteFinalAsync(final, message, db.CreateCommand(), ct), consumerWaiting);
        }
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await CountWrongPinAsync(attempt, connection, tx, ct) is not { } wrongPins)
        {
            await tx.RollbackAsync(ct);
            return AlreadyCompleted(code);
        }
        if (!answer.AsksAgain(wrongPins, options.Value.WrongPinsMax))
        {
            var outcome = await WriteFinalAsync(final, $"The PIN was wrong {wrongPins} times: the payment has failed.", new NpgsqlCommand(null, connection, tx), ct);
            // Nothing written: the wrong PIN is not counted either.
            await (outcome.Result == PaymentResult.NotPayable ? tx.RollbackAsync(ct) : tx.CommitAsync(ct));
            return Committed(outcome, consumerWaiting);
        }
        // The order is payable again at its new count of wrong PINs: a form sealed for the old count no longer claims it.
        await using var again = new NpgsqlCommand(
            $"""
            WITH answered AS ({Answered} RETURNING payment_id)
            UPDATE orders SET status = 'created', updated_at = $5
            WHERE merchant_id = $7 AND order_id = $8 AND status = 'pending' AND EXISTS (SELECT FROM answered)
            """, connection, tx);
        BatchSql.Bind(again, attempt.PaymentId, answer.PaymentStatus, code, authCode, final.At, issuerId, attempt.MerchantId, attempt.OrderId);
        if (await again.ExecuteNonQueryAsync(ct) == 0)
        {
            await tx.RollbackAsync(ct);
            return AlreadyCompleted(code);
        }
        await tx.CommitAsync(ct);
        return new PaymentOutcome(PaymentResult.WrongPin, code, ConsumerMessages.For(code), options.Value.WrongPinsMax - wrongPins);
    }

    /// <summary>
    /// A credit card's bank asked for the one-time code it sent (1A), or said the code was wrong with tries left (63):
    /// the payment is answered and the order payable again, waiting for the code of the challenged payment (this one,
    /// for a 1A; the one it names still, for a 63). Not final: no notification, nothing to settle.
    /// </summary>
    private async Task<PaymentOutcome> AwaitCodeAsync(FinalAnswer final, CancellationToken ct)
    {
        var (attempt, answer, authCode, issuerId, now, _) = final;
        await using var wait = db.CreateCommand(
            $"""
            WITH answered AS ({Answered} RETURNING payment_id)
            UPDATE orders SET status = 'created', updated_at = $5,
                              otp_payment_id = CASE WHEN $3 = '{ResponseCodes.AuthenticationRequired}' THEN $1 ELSE otp_payment_id END
            WHERE merchant_id = $7 AND order_id = $8 AND status = 'pending' AND EXISTS (SELECT FROM answered)
            """);
        BatchSql.Bind(wait, attempt.PaymentId, answer.PaymentStatus, answer.Code, authCode, now, issuerId, attempt.MerchantId, attempt.OrderId);
        if (await wait.ExecuteNonQueryAsync(ct) == 0)
        {
            return AlreadyCompleted(answer.Code);
        }
        logger.LogInformation("Order {OrderId} of merchant {MerchantId}: the bank asks for the cardholder's one-time code ({Code}), STAN {Stan}",
            attempt.OrderId, attempt.MerchantId, answer.Code, attempt.Stan);
        return new PaymentOutcome(answer.Code == ResponseCodes.AuthenticationRequired ? PaymentResult.CodeRequired : PaymentResult.WrongCode,
            answer.Code, ConsumerMessages.For(answer.Code));
    }

    /// <summary>
    /// After the final statement of <paramref name="outcome"/> committed: when it wrote the final state, its settlement row
    /// is the relay's to hand over now, and its notification the dispatcher's, unless the page's path is delivering it
    /// (<paramref name="consumerWaiting"/>: the row is leased to it). Both would otherwise wait for their fallback polls.
    /// </summary>
    private PaymentOutcome Committed(PaymentOutcome outcome, bool consumerWaiting)
    {
        if (outcome.Result != PaymentResult.NotPayable)
        {
            relay.Wake();
            if (!consumerWaiting)
            {
                notifications.Wake();
            }
        }
        return outcome;
    }

    private static PaymentOutcome AlreadyCompleted(string? code) => new(PaymentResult.NotPayable, code, "This payment was already completed.");

    /// <summary>The payment's answer, as the final statement writes it.</summary>
    private const string Answered =
        """
        UPDATE payments SET status = $2, response_code = $3, auth_code = $4, answered_at = $5, issuer_id = $6
        WHERE payment_id = $1 AND status IN ('sent', 'unknown')
        """;

    private sealed record FinalAnswer(PaymentAttempt Attempt, IssuerAnswer Answer, string? AuthCode, string? IssuerId, DateTimeOffset At, bool ConsumerWaiting);

    /// <summary>
    /// The payment's answer, the order's final state and its outbox rows in one statement, which
    /// reads back the notification for the page's path to deliver and the order as the consumer's
    /// result page shows it: no row (and nothing written) when the payment was already answered by
    /// another path. The payload's order version is the one the statement writes. An approved hold (an order of capture mode
    /// <c>hold</c>) leaves the order authorized until its hold expires (<see cref="GatewayOptions.HoldExpiryDays"/>) and owes
    /// settlement nothing: a hold moves no money; its capture is the sale.
    /// </summary>
    private async Task<PaymentOutcome> WriteFinalAsync(FinalAnswer final, string message, NpgsqlCommand command, CancellationToken ct)
    {
        var (attempt, answer, authCode, issuerId, now, consumerWaiting) = final;
        var orderStatus = answer.FinalOrderStatus;
        await using var write = command;
        write.CommandText =
            $"""
            WITH answered AS ({Answered}
                AND EXISTS (SELECT FROM orders WHERE merchant_id = $7 AND order_id = $8 AND status = 'pending')
                RETURNING pan_masked, auth_code, rrn),
            o AS (
                UPDATE orders SET status = CASE WHEN $9 = 'paid' AND capture_mode = '{CaptureMode.Hold}' THEN '{OrderStatus.Authorized}' ELSE $9 END,
                    version = version + 1, response_code = $3, result_message = $10,
                    paid_minor = CASE WHEN $9 = 'paid' AND capture_mode = '{CaptureMode.Sale}' THEN amount_minor ELSE 0 END,
                    paid_at = CASE WHEN $9 = 'paid' AND capture_mode = '{CaptureMode.Sale}' THEN $5 END,
                    hold_expires_at = CASE WHEN $9 = 'paid' AND capture_mode = '{CaptureMode.Hold}' THEN $5 + make_interval(days => $14) END, updated_at = $5
                WHERE merchant_id = $7 AND order_id = $8 AND status = 'pending' AND EXISTS (SELECT FROM answered) RETURNING *),
            x AS (
                INSERT INTO outbox (topic, merchant_id, order_id, order_version, payload, created_at, next_attempt_at)
                SELECT t.topic, o.merchant_id, o.order_id, o.version,
                    jsonb_set($11, $13, to_jsonb(o.version))
                        || CASE WHEN o.capture_mode = '{CaptureMode.Hold}' THEN jsonb_build_object('kind', '{Holds.HoldDesk.HoldKind}', 'status', o.status) ELSE jsonb_build_object() END,
                    $5, t.due
                FROM o CROSS JOIN (VALUES ('{OutboxRows.Notification}', $12::timestamptz), ('{OutboxRows.Settlement}', NULL)) t (topic, due)
                WHERE t.topic = '{OutboxRows.Notification}' OR o.capture_mode = '{CaptureMode.Sale}'
                RETURNING *)
            SELECT {OwedNotification.Columns}, m.name, {OrderBook.SelectList}
            FROM o JOIN merchants m ON m.merchant_id = o.merchant_id JOIN x ON x.topic = '{OutboxRows.Notification}' CROSS JOIN answered p
            """;
        BatchSql.Bind(write, attempt.PaymentId, answer.PaymentStatus, answer.Code, authCode, now, issuerId, attempt.MerchantId, attempt.OrderId,
            orderStatus, message,
            OutboxRows.Jsonb(OutboxRows.Payload(new OutboxEvent("purchase", attempt.MerchantId, attempt.OrderId, 0, orderStatus, attempt.AmountMinor,
                attempt.Currency, answer.Code, attempt.PanMasked, attempt.Stan, attempt.Transmission, attempt.Rrn, authCode, null, now, issuerId))),
            consumerWaiting ? now.Add(InlineDeliveryLease) : now, OutboxRows.OrderVersionPath, options.Value.HoldExpiryDays);
        await using var row = await write.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            return AlreadyCompleted(answer.Code);
        }
        var owed = OwedNotification.Read(row, 0);
        var merchantName = row.GetString(OwedNotification.ColumnCount);
        var order = OrderBook.Read(row, OwedNotification.ColumnCount + 1);
        logger.LogInformation("Order {OrderId} of merchant {MerchantId} is {Status}: response {Code}, card {Pan}, STAN {Stan}",
            attempt.OrderId, attempt.MerchantId, orderStatus, answer.Code, attempt.PanMasked, attempt.Stan);
        return new PaymentOutcome(orderStatus == OrderStatus.Paid ? PaymentResult.Approved : PaymentResult.Declined, answer.Code,
            order.Status == OrderStatus.Authorized ? Holds.HoldDesk.AuthorizedMessage : message,
            Notification: owed, Order: order, MerchantName: merchantName);
    }

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
}
