using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Refunds;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Pages;

/// <summary>
/// NetPay's refund, server to server: the merchant posts <c>MerID, TransType, OrderId, RefundAmount,
/// TransDate, Version, ReturnURL, Priv1, ChkValue</c>, signed over
/// <c>MerID+TransDate+TransType+OrderId+RefundAmount+Priv1</c>, and reads back NetPay's answer
/// (<see cref="NetPayAnswer"/>): <c>ResponseCode, MerID, ProcessDate, SendTime, TransType, OrderId,
/// RefundAmout</c> (NetPay's spelling, which integrations parse)<c>, Status, Priv1, CheckValue</c>, signed
/// by the platform's NetPay key over <c>MerID+ProcessDate+TransType+OrderId+RefundAmout+Status+Priv1</c>.
/// Status <c>1</c> received (the bank has not answered yet), <c>3</c> succeeded, <c>8</c> failed; the
/// result, once known, is posted to the refund's ReturnURL. A refusal is <c>ResponseCode</c> and
/// <c>Message</c> only, as NetPay refuses. NetPay refunds carry no refund number: one is identified by
/// its order, date, amount and Priv1 (<see cref="RefundId"/>), so the same form again is the same
/// refund, and a second refund of one order of the same amount on the same day needs another Priv1.
/// </summary>
public static class NetPayRefundApi
{
    public const string Accepted = "0";
    public const string Received = "1";
    public const string Succeeded = "3";
    public const string Failed = "8";

    /// <summary>NetPay's refusals: the merchant may not refund (111), a duplicate submission (205), no original transaction (402).</summary>
    public const string NotOpened = "111";
    public const string Duplicate = "205";
    public const string NoOriginal = "402";

    /// <summary>Mesh's own refusals, where NetPay's published codes have none: a bad form, a bad ChkValue, more than is left to refund.</summary>
    public const string BadForm = "901";
    public const string BadSignature = "902";
    public const string OverRemainder = "903";

    public static RouteGroupBuilder MapNetPayRefund(this RouteGroupBuilder group)
    {
        group.MapPost("/Refund", RefundAsync).WithName("NetPayRefund").WithTags("NetPay")
            .WithSummary("NetPay's refund form (TransType 0002, 0012, 0102 or 0112); the answer is NetPay's, signed by the platform's NetPay key");
        return group;
    }

    /// <summary>A refusal as NetPay answers one: <c>ResponseCode</c> and <c>Message</c>, nothing signed.</summary>
    public static IResult Refusal(string code, string message, int statusCode) => NetPayAnswer.Refusal("ResponseCode", code, message, statusCode);

    /// <summary>SendTime: HHmmss, China time (UTC+8).</summary>
    public static string SendTime(DateTimeOffset now) => now.ToOffset(TimeSpan.FromHours(8)).ToString("HHmmss", CultureInfo.InvariantCulture);

    private static async Task<IResult> RefundAsync(HttpContext context, MerchantRegistry merchants, RefundDesk desk, NetPaySignature netPay,
        TimeProvider time, CancellationToken ct)
    {
        if (await PaymentPageApi.ReadFormAsync(context) is not { } form)
        {
            return Refusal(BadForm, $"an application/x-www-form-urlencoded form of at most {PaymentPageApi.FormBytesMax} bytes", StatusCodes.Status400BadRequest);
        }
        var fields = new NetPayFormFields(form);
        var merId = fields.Read("MerID", OrderRules.MerchantId().IsMatch, "15 digits");
        var transType = fields.Read("TransType", NetPayRefundTerms.TransTypes.Contains, string.Join(", ", NetPayRefundTerms.TransTypes));
        var orderId = fields.Read("OrderId", OrderRules.NetPayOrderId().IsMatch, "16 digits");
        var refundAmount = fields.Read("RefundAmount", v => v.Length == 12 && v.All(char.IsAsciiDigit) && v != "000000000000", "12 digits, above zero");
        var transDate = fields.Read("TransDate", NetPayOrderForm.IsDate, "YYYYMMDD");
        fields.Read("Version", NetPayOrderForm.Versions.Contains, string.Join(" or ", NetPayOrderForm.Versions));
        var returnUrl = fields.Read("ReturnURL", v => v.Length == 0 || (Encoding.UTF8.GetByteCount(v) <= OrderRules.NetPayUrlBytesMax && OrderRules.IsWebAddress(v)),
            $"blank, or an absolute http or https address of at most {OrderRules.NetPayUrlBytesMax} bytes");
        var priv1 = fields.Read("Priv1", v => Encoding.UTF8.GetByteCount(v) <= OrderRules.Priv1BytesMax && NetPayAnswer.IsRawSafe(v),
            $"at most {OrderRules.Priv1BytesMax} bytes, without control characters, ampersands, equals signs, angle brackets, percent or plus signs");
        var chkValue = fields.Read("ChkValue", v => v.Length == NetPaySignature.ChkValueChars && v.All(char.IsAsciiHexDigit), $"{NetPaySignature.ChkValueChars} hex digits");
        if (fields.HasProblems)
        {
            return Refusal(BadForm, fields.Problems, StatusCodes.Status400BadRequest);
        }
        if (await merchants.FindWithKeyAsync(merId, ct) is not ({ } merchant, { } keys)
            || MerchantLifecycle.Refuses(merchant.State, MerchantCall.FollowUp) is not null)
        {
            return Refusal(NotOpened, $"MerID {merId} is not an onboarded merchant, or has left the platform", StatusCodes.Status403Forbidden);
        }
        var signedText = NetPaySignature.RefundText(merId, transDate, transType, orderId, refundAmount, priv1);
        if (!keys.AnyVerifies(time.GetUtcNow(), (spki, _) => NetPaySignature.IsValid(spki, signedText, chkValue)))
        {
            return Refusal(BadSignature, "ChkValue is the RSA SHA-1 signature of MerID+TransDate+TransType+OrderId+RefundAmount+Priv1 by the merchant's key",
                StatusCodes.Status403Forbidden);
        }
        if (returnUrl.Length > 0 && OrderRules.AddressProblem(returnUrl, merchant, underPrefixes: true) is { } addressProblem)
        {
            return Refusal(BadForm, $"ReturnURL: {addressProblem}", StatusCodes.Status400BadRequest);
        }
        var (refusal, refund, _) = await desk.RefundAsync(merId, orderId, RefundId(orderId, transDate, refundAmount, priv1),
            long.Parse(refundAmount, CultureInfo.InvariantCulture), ct, netPay: new NetPayRefundTerms(transType, priv1, returnUrl.Length == 0 ? null : returnUrl));
        if (refusal is RefundDesk.Refusal.NoSuchOrder or RefundDesk.Refusal.NotPaid)
        {
            return Refusal(NoOriginal, refusal == RefundDesk.Refusal.NoSuchOrder ? "no such order" : "the order is not paid", StatusCodes.Status404NotFound);
        }
        if (refusal == RefundDesk.Refusal.OverRemainder)
        {
            return Refusal(OverRemainder, "the refund exceeds what is left to refund", StatusCodes.Status409Conflict);
        }
        // The same refund (order, date, amount, Priv1) sent again answers as the first did; sent as another TransType, it is a duplicate.
        if (refusal != RefundDesk.Refusal.None || (refund!.NetPay?.TransType ?? NetPayRefundTerms.TransTypes[0]) != transType)
        {
            return Refusal(Duplicate, "a refund of this order, amount, date and Priv1 was submitted as another TransType", StatusCodes.Status409Conflict);
        }
        var status = refund.Status switch
        {
            RefundStatus.Succeeded => Succeeded,
            RefundStatus.Failed => Failed,
            _ => Received,
        };
        var processDate = NetPayRefundTerms.ProcessDate(refund.CreatedAt);
        var checkValue = await netPay.SignAsync(NetPaySignature.RefundAnswerText(merId, processDate, transType, orderId, refundAmount, status, priv1), ct);
        return NetPayAnswer.Result(Answer(merId, processDate, SendTime(time.GetUtcNow()), transType, orderId, refundAmount, status, priv1, checkValue),
            StatusCodes.Status200OK);
    }

    /// <summary>An accepted refund's answer, its fields in NetPay's order.</summary>
    public static KeyValuePair<string, string>[] Answer(string merId, string processDate, string sendTime, string transType, string orderId,
        string refundAmount, string status, string priv1, string checkValue) =>
    [
        new("ResponseCode", Accepted), new("MerID", merId), new("ProcessDate", processDate), new("SendTime", sendTime), new("TransType", transType),
        new("OrderId", orderId), new("RefundAmout", refundAmount), new("Status", status), new("Priv1", priv1), new("CheckValue", checkValue),
    ];

    /// <summary>
    /// A NetPay refund's id, the same for the same form: <c>np-{OrderId}-{TransDate}-{RefundAmount}-</c> and the first six hex
    /// digits of the SHA-256 of Priv1. Unique per merchant, as every refund id is; its order is part of it, so two orders refunded
    /// alike are two refunds.
    /// </summary>
    public static string RefundId(string orderId, string transDate, string refundAmount, string priv1) =>
        $"np-{orderId}-{transDate}-{refundAmount}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(priv1)))[..6]}";
}
