namespace Mesh.NetPay.Api;

/// <summary>An order to create through <c>/v1</c>.</summary>
/// <param name="OrderId">The merchant's order number: 1 to 32 of A-Z a-z 0-9 _ -. Also the Idempotency-Key of the create.</param>
/// <param name="AmountMinor">The amount in minor units (fen).</param>
/// <param name="Currency">156 or CNY.</param>
/// <param name="TxnDate">yyyyMMdd; today (UTC) when null.</param>
/// <param name="BackUrl">Where the platform posts notifications.</param>
/// <param name="FrontUrl">Where the consumer's browser returns after paying.</param>
/// <param name="GateId">The consumer's bank, or null to choose on the payment page.</param>
/// <param name="ReqReserved">The merchant's own field, returned as is.</param>
/// <param name="NotifyMode">realtime, deferred or redirect; null for the merchant's setting.</param>
/// <param name="PayTimeout">When the order stops being payable and is closed; null for the platform's default.</param>
/// <param name="Hold">
/// Pre-authorization: the payment only holds the amount on the card, to be captured (<see cref="NetPayClient.CaptureOrderAsync"/>) or
/// released (<see cref="NetPayClient.ReleaseOrderAsync"/>) later; false for a sale, which takes it.
/// </param>
public sealed record CreateOrder(string OrderId, long AmountMinor, string Currency = "CNY", string? TxnDate = null, string? BackUrl = null,
    string? FrontUrl = null, string? GateId = null, string? ReqReserved = null, string? NotifyMode = null, DateTimeOffset? PayTimeout = null,
    bool Hold = false);

/// <summary>An order as the platform signed it.</summary>
public sealed record Order(
    string MerchantId,
    string OrderId,
    long AmountMinor,
    string Currency,
    string TxnDate,
    string Status,
    long Version,
    string? ResponseCode,
    string? ResponseMessage,
    long PaidMinor,
    long RefundedMinor,
    string? MaskedPan,
    string? AuthCode,
    string? Rrn,
    string? ReqReserved,
    DateTimeOffset CreatedAt,
    DateTimeOffset? PaidAt,
    Uri? PayUrl,
    DateTimeOffset? PayTimeout,
    string CaptureMode = "sale",
    long HeldMinor = 0,
    long CapturedMinor = 0,
    DateTimeOffset? HoldExpiresAt = null)
{
    /// <summary>
    /// Order statuses: created (not paid yet), pending (the bank's answer is not known yet), paid, failed, closed (not paid by its
    /// pay-by time, or closed by the merchant: it can no longer be paid).
    /// </summary>
    public const string Created = "created";

    /// <inheritdoc cref="Created"/>
    public const string Paid = "paid";

    /// <inheritdoc cref="Created"/>
    public const string Failed = "failed";

    /// <summary>
    /// The risk control that refused the payment before it reached the bank (<c>risk.limit_per_payment</c>, <c>risk.limit_per_day</c>,
    /// <c>risk.velocity</c>, <c>risk.blocked_card</c>, <c>risk.blocked_network</c>); null when none did.
    /// </summary>
    public string? RiskRefusal => ResponseCode is { } code && code.StartsWith("risk.", StringComparison.Ordinal) ? code : null;

    /// <inheritdoc cref="Created"/>
    public const string Closed = "closed";

    /// <inheritdoc cref="Created"/>
    public const string Voided = "voided";

    /// <summary>
    /// A hold's statuses: authorized (the amount is held until <see cref="HoldExpiresAt"/>), capturing (a capture is waiting for the bank),
    /// released (by the merchant), expired (released by the platform); a captured hold is <see cref="Paid"/> at <see cref="CapturedMinor"/>.
    /// </summary>
    public const string Authorized = "authorized";

    /// <inheritdoc cref="Authorized"/>
    public const string Capturing = "capturing";

    /// <inheritdoc cref="Authorized"/>
    public const string Released = "released";

    /// <inheritdoc cref="Authorized"/>
    public const string Expired = "expired";

    /// <summary>What can still be refunded, in minor units.</summary>
    public long RefundableMinor => Math.Max(0, PaidMinor - RefundedMinor);
}

/// <summary>A refund as the platform signed it (status: pending, succeeded or failed).</summary>
public sealed record Refund(string MerchantId, string OrderId, string RefundId, long AmountMinor, string Currency, string Status, string? ResponseCode,
    DateTimeOffset CreatedAt, DateTimeOffset? AnsweredAt);

/// <summary>Which reconciliation file of a closed settlement date.</summary>
public enum ReconciliationKind
{
    /// <summary>对交易明细: one line per payment, refund and adjustment.</summary>
    Detail,

    /// <summary>对交易总账: the day's totals per currency and the batch's fund status.</summary>
    Totals,
}
