namespace Mesh.Gateway.Apis;

/// <summary>
/// An order, signed by the platform. Every value is a string (what is signed is what is sent); a field without a value is
/// left out. Check <c>signature</c> over the other fields with the platform certificate named by <c>certId</c>.
/// </summary>
/// <param name="MerId">The merchant's number.</param>
/// <param name="OrderId">The merchant's order number.</param>
/// <param name="TxnAmt">The order's amount in minor units.</param>
/// <param name="CurrencyCode">The currency (ISO 4217 numeric, 156).</param>
/// <param name="TxnDate">The merchant's date of the order, yyyyMMdd.</param>
/// <param name="Status">created, pending, paid, failed, closed, voided, authorized, capturing, released or expired.</param>
/// <param name="Version">Grows by one at each change of the order: a later answer or notification has a higher version.</param>
/// <param name="RespCode">The bank's response code (00 approved), or a risk control's code.</param>
/// <param name="RespMsg">What the response code means, in words.</param>
/// <param name="PaidAmt">Minor units paid (captured, for a hold).</param>
/// <param name="RefundedAmt">Minor units refunded.</param>
/// <param name="MaskedPan">The card number, masked (first 6, last 4).</param>
/// <param name="AuthCode">The issuer's authorization code.</param>
/// <param name="Rrn">The retrieval reference number.</param>
/// <param name="ReqReserved">The merchant's own data, as given.</param>
/// <param name="CreatedAt">When the order was created, yyyyMMddHHmmss UTC.</param>
/// <param name="PaidAt">When it was paid, yyyyMMddHHmmss UTC.</param>
/// <param name="PayTimeout">The pay-by time, yyyyMMddHHmmss UTC.</param>
/// <param name="CaptureMode">hold, for an order whose payment holds the funds.</param>
/// <param name="HeldAmt">For a hold: minor units held while it stands (0 once captured, released or expired).</param>
/// <param name="CapturedAmt">For a hold: minor units captured.</param>
/// <param name="HoldExpiresAt">For a hold: when it expires, yyyyMMddHHmmss UTC.</param>
/// <param name="PayUrl">Where the consumer pays, while the order is created.</param>
/// <param name="SignTime">When the platform signed the answer, yyyyMMddHHmmss UTC (not in a page's orders).</param>
/// <param name="CertId">The platform certificate's certId: the first 16 hex digits of the SHA-256 of its public key (not in a page's orders).</param>
/// <param name="Signature">The platform's signature over the other fields (not in a page's orders: the page's ordersDigest covers them).</param>
public sealed record OrderAnswer(string MerId, string OrderId, string TxnAmt, string CurrencyCode, string TxnDate, string Status, string Version,
    string PaidAmt, string RefundedAmt, string CreatedAt, string PayTimeout, string? RespCode = null, string? RespMsg = null, string? MaskedPan = null,
    string? AuthCode = null, string? Rrn = null, string? ReqReserved = null, string? PaidAt = null, string? CaptureMode = null, string? HeldAmt = null,
    string? CapturedAmt = null, string? HoldExpiresAt = null, string? PayUrl = null, string? SignTime = null, string? CertId = null, string? Signature = null);

/// <summary>A refund, signed by the platform; a field without a value is left out.</summary>
/// <param name="MerId">The merchant's number.</param>
/// <param name="OrderId">The order refunded.</param>
/// <param name="RefundId">The merchant's refund number.</param>
/// <param name="RefundAmt">Minor units refunded.</param>
/// <param name="CurrencyCode">The currency (ISO 4217 numeric, 156).</param>
/// <param name="Status">pending, succeeded or failed.</param>
/// <param name="RespCode">The bank's response code.</param>
/// <param name="CreatedAt">When the refund was made, yyyyMMddHHmmss UTC.</param>
/// <param name="AnsweredAt">When the bank answered, yyyyMMddHHmmss UTC.</param>
/// <param name="SignTime">When the platform signed the answer, yyyyMMddHHmmss UTC.</param>
/// <param name="CertId">The platform certificate's certId.</param>
/// <param name="Signature">The platform's signature over the other fields.</param>
public sealed record RefundAnswer(string MerId, string OrderId, string RefundId, string RefundAmt, string CurrencyCode, string Status, string CreatedAt,
    string SignTime, string CertId, string Signature, string? RespCode = null, string? AnsweredAt = null);

/// <summary>
/// A page of orders. The signature covers the page's fields and <c>ordersDigest</c>: the SHA-256 hex of the orders'
/// canonical strings joined by newlines, so the orders (which carry no signature of their own) are covered too.
/// </summary>
/// <param name="MerId">The merchant's number.</param>
/// <param name="From">The start of the range, yyyyMMddHHmmss UTC.</param>
/// <param name="To">The end of the range (excluded), yyyyMMddHHmmss UTC.</param>
/// <param name="Count">How many orders are on this page.</param>
/// <param name="NextCursor">The cursor of the next page, when this page is full.</param>
/// <param name="OrdersDigest">The SHA-256 hex of the orders' canonical strings joined by newlines.</param>
/// <param name="SignTime">When the platform signed the answer.</param>
/// <param name="CertId">The platform certificate's certId.</param>
/// <param name="Signature">The platform's signature over the other fields.</param>
/// <param name="Orders">The orders, oldest first, without signTime, certId and signature.</param>
public sealed record OrderPage(string MerId, string From, string To, string Count, string OrdersDigest, string SignTime, string CertId, string Signature,
    IReadOnlyList<OrderAnswer> Orders, string? NextCursor = null);
