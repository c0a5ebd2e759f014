namespace Mesh.Gateway.Apis;

/// <summary>
/// Creates an order the consumer then pays at <c>payUrl</c>. Every value is a string, as signed. The required fields are
/// required of a request the platform accepts; a request without one is still read, and answered with a problem naming it.
/// </summary>
/// <param name="MerId">The merchant's number: 15 digits.</param>
/// <param name="OrderId">The merchant's order number, unique per merchant: 1 to 32 of A-Z a-z 0-9 _ -.</param>
/// <param name="TxnAmt">The amount in minor units (fen): 1 to 12 digits, above 0.</param>
/// <param name="CurrencyCode">156 or CNY.</param>
/// <param name="TxnDate">The merchant's date of the order: yyyyMMdd.</param>
/// <param name="BackUrl">Where the platform posts the result (HTTPS, the merchant's registered host).</param>
/// <param name="FrontUrl">Where the consumer's browser returns after paying.</param>
/// <param name="GateId">The gate (bank) code; blank: the consumer chooses.</param>
/// <param name="ReqReserved">The merchant's own data, given back in answers and notifications.</param>
/// <param name="NotifyMode">realtime, deferred or redirect; blank: the merchant's.</param>
/// <param name="PayTimeout">The pay-by time, yyyyMMddHHmmss UTC; blank: the platform's default.</param>
/// <param name="CaptureMode">sale (the default: the payment takes the funds) or hold (it only holds them, to be captured or released).</param>
/// <param name="Signature">The merchant's signature over the other fields (see "Signing /v1 requests").</param>
public sealed record CreateOrderRequest(string? MerId, string? OrderId, string? TxnAmt, string? CurrencyCode, string? TxnDate, string? Signature,
    string? BackUrl = null, string? FrontUrl = null, string? GateId = null, string? ReqReserved = null, string? NotifyMode = null, string? PayTimeout = null,
    string? CaptureMode = null) : V1Body
{
    public static ValueTask<CreateOrderRequest?> BindAsync(HttpContext http) => ReadAsync<CreateOrderRequest>(http);
}

/// <summary>Refunds all or part of a paid order. The path's orderId is signed too.</summary>
/// <param name="MerId">The merchant's number: 15 digits.</param>
/// <param name="RefundId">The merchant's refund number, unique per merchant (a repeat is the same refund): 1 to 32 of A-Z a-z 0-9 _ -.</param>
/// <param name="RefundAmt">The amount to refund in minor units: 1 to 12 digits, above 0, at most what is left.</param>
/// <param name="Signature">The merchant's signature over the other fields and the path's orderId.</param>
public sealed record RefundOrderRequest(string? MerId, string? RefundId, string? RefundAmt, string? Signature) : V1Body
{
    public static ValueTask<RefundOrderRequest?> BindAsync(HttpContext http) => ReadAsync<RefundOrderRequest>(http);
}

/// <summary>Closes, voids or releases an order: only the merchant and its signature (over merId and the path's orderId).</summary>
/// <param name="MerId">The merchant's number: 15 digits.</param>
/// <param name="Signature">The merchant's signature over merId and the path's orderId.</param>
public sealed record OrderActionRequest(string? MerId, string? Signature) : V1Body
{
    public static ValueTask<OrderActionRequest?> BindAsync(HttpContext http) => ReadAsync<OrderActionRequest>(http);
}

/// <summary>Captures a held order. The path's orderId is signed too.</summary>
/// <param name="MerId">The merchant's number: 15 digits.</param>
/// <param name="CaptureAmt">The amount to capture in minor units: 1 to the amount held.</param>
/// <param name="Signature">The merchant's signature over the other fields and the path's orderId.</param>
public sealed record CaptureOrderRequest(string? MerId, string? CaptureAmt, string? Signature) : V1Body
{
    public static ValueTask<CaptureOrderRequest?> BindAsync(HttpContext http) => ReadAsync<CaptureOrderRequest>(http);
}
