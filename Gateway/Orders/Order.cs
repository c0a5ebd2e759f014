namespace Mesh.Gateway.Orders;

/// <summary>Which front door an order came through; it decides how answers are signed and named.</summary>
public static class OrderProtocol
{
    public const string NetPay = "netpay";
    public const string V1 = "v1";
}

/// <summary>
/// An order's states: created (page not yet paid), pending (an authorization is out), paid, failed, closed (its pay-by time passed,
/// or its merchant closed it, before it was paid: it can never be paid), voided. An order of capture mode <c>hold</c> is authorized
/// once its hold is approved, capturing while its capture is out, then paid (at the amount captured), or released by its merchant,
/// or expired (released by the platform).
/// </summary>
public static class OrderStatus
{
    public const string Created = "created";
    public const string Pending = "pending";
    public const string Paid = "paid";
    public const string Failed = "failed";
    public const string Closed = "closed";
    public const string Voided = "voided";
    public const string Authorized = "authorized";
    public const string Capturing = "capturing";
    public const string Released = "released";
    public const string Expired = "expired";
}

/// <summary>What an order's payment does with the funds: <c>sale</c> takes them, <c>hold</c> only holds them for a later capture.</summary>
public static class CaptureMode
{
    public const string Sale = "sale";
    public const string Hold = "hold";
}

/// <summary>What a merchant asks for, from either front door, once read and checked.</summary>
public sealed record OrderRequest(
    string MerchantId,
    string OrderId,
    string Protocol,
    long AmountMinor,
    string Currency,
    string TransDate,
    string TransType,
    string? NetPayVersion,
    string? BgRetUrl,
    string? PageRetUrl,
    string? GateId,
    string? Priv1,
    string? NotificationMode = null,
    DateTimeOffset? PayBy = null,
    string CaptureMode = CaptureMode.Sale);

/// <summary>An order as stored, with what became of its payment.</summary>
public sealed record Order(
    string MerchantId,
    string OrderId,
    string Protocol,
    long AmountMinor,
    string Currency,
    string TransDate,
    string TransType,
    string? NetPayVersion,
    string? BgRetUrl,
    string? PageRetUrl,
    string? GateId,
    string? Priv1,
    string Status,
    int Version,
    int Attempts,
    string? ResponseCode,
    string? ResultMessage,
    long PaidMinor,
    long RefundedMinor,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? PaidAt,
    string? PanMasked,
    string? AuthCode,
    string? Rrn,
    DateTimeOffset PayBy,
    int WrongPins,
    string CaptureMode = CaptureMode.Sale,
    DateTimeOffset? HoldExpiresAt = null)
{
    public bool IsFinal => Status is OrderStatus.Paid or OrderStatus.Failed or OrderStatus.Closed or OrderStatus.Voided or OrderStatus.Authorized
        or OrderStatus.Released or OrderStatus.Expired;

    /// <summary>
    /// Whether <paramref name="request"/> is the one that made this order, every field it signed compared (a repeat under an
    /// Idempotency-Key must be the same request); the notification mode is not kept on the order and is not compared.
    /// </summary>
    public bool SameRequest(OrderRequest request) =>
        SameAs(request) && (GateId ?? "") == (request.GateId ?? "") && (request.PayBy is not { } payBy || payBy == PayBy);

    public bool SameAs(OrderRequest request) =>
        AmountMinor == request.AmountMinor && Currency == request.Currency && CaptureMode == request.CaptureMode && TransDate == request.TransDate && Protocol == request.Protocol
        && (PageRetUrl ?? "") == (request.PageRetUrl ?? "") && (BgRetUrl ?? "") == (request.BgRetUrl ?? "") && (Priv1 ?? "") == (request.Priv1 ?? "");
}
