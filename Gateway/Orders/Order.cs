namespace Mesh.Gateway.Orders;

/// <summary>Which front door an order came through; it decides how answers are signed and named.</summary>
public static class OrderProtocol
{
    public const string NetPay = "netpay";
    public const string V1 = "v1";
}

/// <summary>
/// An order's states: created (page not yet paid), pending (an authorization is out), paid, failed, closed (its pay-by time passed,
/// or its merchant closed it, before it was paid: it can never be paid).
/// </summary>
public static class OrderStatus
{
    public const string Created = "created";
    public const string Pending = "pending";
    public const string Paid = "paid";
    public const string Failed = "failed";
    public const string Closed = "closed";
    public const string Voided = "voided";
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
    DateTimeOffset? PayBy = null);

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
    int WrongPins)
{
    public bool IsFinal => Status is OrderStatus.Paid or OrderStatus.Failed or OrderStatus.Closed or OrderStatus.Voided;

    /// <summary>
    /// Whether <paramref name="request"/> is the one that made this order, every field it signed compared (a repeat under an
    /// Idempotency-Key must be the same request); the notification mode is not kept on the order and is not compared.
    /// </summary>
    public bool SameRequest(OrderRequest request) =>
        SameAs(request) && (GateId ?? "") == (request.GateId ?? "") && (request.PayBy is not { } payBy || payBy == PayBy);

    public bool SameAs(OrderRequest request) =>
        AmountMinor == request.AmountMinor && Currency == request.Currency && TransDate == request.TransDate && Protocol == request.Protocol
        && (PageRetUrl ?? "") == (request.PageRetUrl ?? "") && (BgRetUrl ?? "") == (request.BgRetUrl ?? "") && (Priv1 ?? "") == (request.Priv1 ?? "");
}
