using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Refunds;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Pages;

/// <summary>
/// NetPay's refund, server to server: the merchant posts <c>MerID, TransType=0002, OrderId,
/// RefundAmount, TransDate, Version, ReturnURL, Priv1, ChkValue</c>, signed over
/// <c>MerID+TransDate+TransType+OrderId+RefundAmount+Priv1</c>, and reads back a form-encoded
/// answer signed by the platform's NetPay key over
/// <c>MerID+ProcessDate+TransType+OrderId+RefundAmount+Status+Priv1</c>. Status <c>1001</c> is
/// refunded, <c>1000</c> accepted and still pending, <c>1002</c> refused. NetPay refunds carry no
/// refund number: one is identified by its order, date, amount and Priv1 (<see cref="RefundId"/>),
/// so the same form again is the same refund, and a second refund of one order of the same amount
/// on the same day needs another Priv1.
/// </summary>
public static class NetPayRefundApi
{
    public const string Refunded = "1001";
    public const string Pending = "1000";
    public const string Refused = "1002";

    public static RouteGroupBuilder MapNetPayRefund(this RouteGroupBuilder group)
    {
        group.MapPost("/Refund", RefundAsync).WithName("NetPayRefund").WithTags("NetPay")
            .WithSummary("NetPay's refund form (TransType 0002); the answer is form-encoded and signed by the platform's NetPay key");
        return group;
    }

    private static async Task<IResult> RefundAsync(HttpContext context, MerchantRegistry merchants, RefundDesk desk, NetPaySignature netPay,
        TimeProvider time, CancellationToken ct)
    {
        if (await PaymentPageApi.ReadFormAsync(context) is not { } form)
        {
            return TypedResults.Problem($"an application/x-www-form-urlencoded form of at most {PaymentPageApi.FormBytesMax} bytes",
                statusCode: StatusCodes.Status400BadRequest, title: "The form could not be read");
        }
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string Field(string name, Func<string, bool> ok, string rule)
        {
            var values = form[name];
            var value = values.Count == 1 ? values[0] ?? "" : "";
            if (values.Count > 1 || !ok(value))
            {
                problems[name] = [values.Count > 1 ? "given once" : rule];
            }
            return value;
        }
        var merId = Field("MerID", OrderRules.MerchantId().IsMatch, "15 digits");
        var transType = Field("TransType", v => v == "0002", "0002 (refund)");
        var orderId = Field("OrderId", OrderRules.NetPayOrderId().IsMatch, "16 digits");
        var refundAmount = Field("RefundAmount", v => v.Length == 12 && v.All(char.IsAsciiDigit) && v != "000000000000", "12 digits, above zero");
        var transDate = Field("TransDate", NetPayOrderForm.IsDate, "YYYYMMDD");
        Field("Version", NetPayOrderForm.Versions.Contains, string.Join(" or ", NetPayOrderForm.Versions));
        Field("ReturnURL", v => v.Length <= OrderRules.NetPayUrlBytesMax, $"at most {OrderRules.NetPayUrlBytesMax} bytes");
        var priv1 = Field("Priv1", v => Encoding.UTF8.GetByteCount(v) <= OrderRules.Priv1BytesMax, $"at most {OrderRules.Priv1BytesMax} bytes");
        var chkValue = Field("ChkValue", v => v.Length == NetPaySignature.ChkValueChars && v.All(char.IsAsciiHexDigit), $"{NetPaySignature.ChkValueChars} hex digits");
        if (problems.Count > 0)
        {
            return TypedResults.ValidationProblem(problems, title: "The refund has errors");
        }
        if (await merchants.FindWithKeyAsync(merId, ct) is not ({ Status: "active" }, { Length: > 0 } key)
            || !NetPaySignature.IsValid(key, NetPaySignature.RefundText(merId, transDate, transType, orderId, refundAmount, priv1), chkValue))
        {
            return TypedResults.Problem("ChkValue is the RSA SHA-1 signature of MerID+TransDate+TransType+OrderId+RefundAmount+Priv1 by an active merchant's key",
                statusCode: StatusCodes.Status403Forbidden, title: "The signature does not verify");
        }
        var (refusal, refund, _) = await desk.RefundAsync(merId, orderId, RefundId(orderId, transDate, refundAmount, priv1),
            long.Parse(refundAmount, CultureInfo.InvariantCulture), ct);
        var status = refusal != RefundDesk.Refusal.None ? Refused
            : refund!.Status == RefundStatus.Succeeded ? Refunded
            : refund.Status == RefundStatus.Pending ? Pending
            : Refused;
        var processDate = time.GetUtcNow().ToOffset(TimeSpan.FromHours(8)).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var checkValue = await netPay.SignAsync(string.Concat(merId, processDate, transType, orderId, refundAmount, status, priv1), ct);
        var answer = new Dictionary<string, string>
        {
            ["ResponseCode"] = refusal == RefundDesk.Refusal.None ? "0" : "1",
            ["MerID"] = merId,
            ["ProcessDate"] = processDate,
            ["SendTime"] = time.GetUtcNow().ToOffset(TimeSpan.FromHours(8)).ToString("HHmmss", CultureInfo.InvariantCulture),
            ["TransType"] = transType,
            ["OrderId"] = orderId,
            ["RefundAmount"] = refundAmount,
            ["Status"] = status,
            ["Priv1"] = priv1,
            ["CheckValue"] = checkValue,
            ["Message"] = refusal switch
            {
                RefundDesk.Refusal.None => refund!.Status,
                RefundDesk.Refusal.OverRemainder => "the refund exceeds what is left to refund",
                RefundDesk.Refusal.NotPaid => "the order is not paid",
                RefundDesk.Refusal.NoSuchOrder => "no such order",
                _ => "the refund was refused",
            },
        };
        return Results.Text(string.Join('&', answer.Select(a => $"{a.Key}={Uri.EscapeDataString(a.Value)}")), "application/x-www-form-urlencoded",
            statusCode: refusal is RefundDesk.Refusal.None ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
    }

    /// <summary>
    /// A NetPay refund's id, the same for the same form: <c>np-{OrderId}-{TransDate}-{RefundAmount}-</c> and the first six hex
    /// digits of the SHA-256 of Priv1. Unique per merchant, as every refund id is; its order is part of it, so two orders refunded
    /// alike are two refunds.
    /// </summary>
    public static string RefundId(string orderId, string transDate, string refundAmount, string priv1) =>
        $"np-{orderId}-{transDate}-{refundAmount}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(priv1)))[..6]}";
}
