using System.Globalization;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Orders;

/// <summary>
/// The platform's signed answer about an order, in the order's protocol: NetPay's lower-case
/// fields with <c>checkvalue</c> (status <c>1001</c> = paid), or the <c>/v1</c> fields with
/// <c>certId</c> and <c>signature</c>. The same answer goes to the browser (PageRetUrl) and, in the
/// notification issue, to the merchant's server (BgRetUrl).
/// </summary>
public sealed class OrderAnswers(NetPaySignature netPay, CanonicalSignature canonical, TimeProvider time)
{
    public const string NetPayPaid = "1001";
    public const string NetPayNotPaid = "1002";

    public async Task<List<KeyValuePair<string, string?>>> SignedAsync(Order order, CancellationToken ct) =>
        order.Protocol == OrderProtocol.NetPay ? await NetPayAsync(order, ct) : await V1Async(V1Fields(order), ct);

    private async Task<List<KeyValuePair<string, string?>>> NetPayAsync(Order order, CancellationToken ct)
    {
        var amount = order.AmountMinor.ToString("D12", CultureInfo.InvariantCulture);
        var status = order.Status == OrderStatus.Paid ? NetPayPaid : NetPayNotPaid;
        var checkValue = await netPay.SignAsync(NetPaySignature.AnswerText(order.MerchantId, order.OrderId, amount, order.Currency, order.TransDate,
            order.TransType, status), ct);
        return
        [
            new("merid", order.MerchantId), new("orderno", order.OrderId), new("transdate", order.TransDate), new("amount", amount),
            new("currencycode", order.Currency), new("transtype", order.TransType), new("status", status), new("checkvalue", checkValue),
            new("GateId", order.GateId ?? ""), new("Priv1", order.Priv1 ?? ""),
        ];
    }

    /// <summary>
    /// An order's <c>/v1</c> fields, every value a string (what is signed is what is sent). An order of capture mode <c>hold</c> adds
    /// its mode, the amount held while the hold stands (<c>heldAmt</c>, 0 once captured, released or expired), the amount captured
    /// (<c>capturedAmt</c>) and when the hold expires (<c>holdExpiresAt</c>).
    /// </summary>
    public static List<KeyValuePair<string, string?>> V1Fields(Order order)
    {
        var fields = SaleFields(order);
        if (order.CaptureMode == CaptureMode.Hold)
        {
            var held = order.Status is OrderStatus.Authorized or OrderStatus.Capturing ? order.AmountMinor : 0;
            fields.Add(new("captureMode", order.CaptureMode));
            fields.Add(new("heldAmt", Minor(held)));
            fields.Add(new("capturedAmt", Minor(order.PaidMinor)));
            fields.Add(new("holdExpiresAt", order.HoldExpiresAt is { } expires ? Timestamp(expires) : null));
        }
        return fields;
    }

    private static List<KeyValuePair<string, string?>> SaleFields(Order order) =>
    [
        new("merId", order.MerchantId), new("orderId", order.OrderId), new("txnAmt", Minor(order.AmountMinor)), new("currencyCode", order.Currency),
        new("txnDate", order.TransDate), new("status", order.Status), new("version", order.Version.ToString(CultureInfo.InvariantCulture)),
        new("respCode", order.ResponseCode), new("respMsg", order.ResultMessage), new("paidAmt", Minor(order.PaidMinor)),
        new("refundedAmt", Minor(order.RefundedMinor)), new("maskedPan", order.PanMasked), new("authCode", order.AuthCode), new("rrn", order.Rrn),
        new("reqReserved", order.Priv1), new("createdAt", Timestamp(order.CreatedAt)), new("paidAt", order.PaidAt is { } paid ? Timestamp(paid) : null),
        new("payTimeout", Timestamp(order.PayBy)),
    ];

    /// <summary>Adds <c>signTime</c>, <c>certId</c> and the platform's <c>signature</c> to <paramref name="fields"/>.</summary>
    public async Task<List<KeyValuePair<string, string?>>> V1Async(List<KeyValuePair<string, string?>> fields, CancellationToken ct)
    {
        fields.Add(new("signTime", Timestamp(time.GetUtcNow())));
        var (certId, signature) = await canonical.SignAsync(fields, ct);
        fields.Add(new(CanonicalSignature.CertIdField, certId));
        fields.Add(new(CanonicalSignature.SignatureField, signature));
        return fields;
    }

    public static string Minor(long amountMinor) => amountMinor.ToString(CultureInfo.InvariantCulture);

    /// <summary>yyyyMMddHHmmss in UTC, as <c>/v1</c> carries times.</summary>
    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
}
