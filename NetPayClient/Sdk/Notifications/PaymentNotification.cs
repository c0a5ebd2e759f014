namespace Mesh.NetPay.Notifications;

/// <summary>
/// What the platform tells the merchant about an order, whichever protocol carried it: a
/// purchase's result or a refund's. <see cref="NotificationId"/> is the same on every attempt
/// to deliver it (deduplicate on it); <see cref="OrderVersion"/> grows with every change of the
/// order, so a late duplicate can be told from news.
/// </summary>
public sealed record PaymentNotification(
    string NotificationId,
    string Kind,
    string MerchantId,
    string OrderId,
    long OrderVersion,
    string Status,
    long AmountMinor,
    string Currency,
    string? ResponseCode,
    string? MaskedPan,
    string? RefundId,
    string TxnDate,
    string? ReqReserved,
    string Protocol)
{
    /// <summary>A purchase's result.</summary>
    public const string Purchase = "purchase";

    /// <summary>A refund's result.</summary>
    public const string Refund = "refund";

    /// <summary>A hold's news (an order created with <c>Hold</c>): <c>authorized</c> (the amount is held), <c>released</c> or <c>expired</c>.</summary>
    public const string Hold = "hold";

    /// <summary>A hold's capture: status <c>paid</c>, for the amount captured (the sale).</summary>
    public const string Capture = "capture";

    /// <summary>
    /// True when the purchase is paid (<c>paid</c>, NetPay's <c>1001</c>) or the refund went through (<c>succeeded</c>, NetPay's
    /// <c>3</c>). A refund is never read as a payment: only a purchase is paid.
    /// </summary>
    public bool Succeeded => Kind == Refund ? Status is "succeeded" or "3" : Status is "paid" or "1001";
}
