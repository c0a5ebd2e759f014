using System.Globalization;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Pages;

/// <summary>
/// NetPay's order query (NetPay's <c>QueryWeb/processQuery.jsp</c>), server to server: the merchant
/// posts <c>MerId, TransType=0001, OrdId, TransDate, Version, Resv, ChkValue</c>, signed over
/// <c>MerId+TransDate+OrdId+TransType</c>, and reads back NetPay's answer (<see cref="NetPayAnswer"/>):
/// <c>ResponeseCode</c> (NetPay's spelling)<c>, merid, orderno, amount,
/// currencycode, transdate, transtype, status, checkvalue, GateId, Priv1</c>, signed by the platform's
/// NetPay key over <c>merid+orderno+amount+currencycode+transdate+transtype+status</c>, as its
/// notifications are. A refusal is <c>ResponeseCode</c> and <c>Message</c>: <c>307</c> no order of
/// that number and date. The order's state is read, never changed.
/// </summary>
public static class NetPayQueryApi
{
    public const string CodeField = "ResponeseCode";
    public const string NoRecord = "307";
    public const string Purchase = "0001";
    public static readonly string[] Versions = ["20060831", "20070129"];
    public const int ResvCharsMax = 60;

    /// <summary>The order's <c>status</c>: NetPay's 1001 paid and 1003 refund submitted, and Mesh's own for NetPay's "not successful" others.</summary>
    public const string Created = "1000";
    public const string Paid = "1001";
    public const string NotPaid = "1002";
    public const string Refunded = "1003";
    public const string Pending = "1004";
    public const string Voided = "1006";

    public static RouteGroupBuilder MapNetPayQuery(this RouteGroupBuilder group)
    {
        group.MapPost("/Query", QueryAsync).WithName("NetPayQuery").WithTags("NetPay")
            .WithSummary("NetPay's order query (TransType 0001); the answer is NetPay's, signed by the platform's NetPay key");
        return group;
    }

    /// <summary>What NetPay's <c>status</c> says of <paramref name="order"/> at <paramref name="now"/>.</summary>
    public static string Status(Order order, DateTimeOffset now) => order.Status switch
    {
        OrderStatus.Paid when order.RefundedMinor > 0 => Refunded,
        OrderStatus.Paid => Paid,
        OrderStatus.Pending => Pending,
        OrderStatus.Voided => Voided,
        OrderStatus.Created when !OrderLifetime.HasEnded(order, now) => Created,
        _ => NotPaid,
    };

    private static IResult Refusal(string code, string message, int statusCode) => NetPayAnswer.Refusal(CodeField, code, message, statusCode);

    private static async Task<IResult> QueryAsync(HttpContext context, MerchantRegistry merchants, OrderBook orders, NetPaySignature netPay, TimeProvider time,
        CancellationToken ct)
    {
        if (await PaymentPageApi.ReadFormAsync(context) is not { } form)
        {
            return Refusal(NetPayRefundApi.BadForm, $"an application/x-www-form-urlencoded form of at most {PaymentPageApi.FormBytesMax} bytes",
                StatusCodes.Status400BadRequest);
        }
        var fields = new NetPayFormFields(form);
        var merId = fields.Read("MerId", OrderRules.MerchantId().IsMatch, "15 digits");
        var transType = fields.Read("TransType", v => v == Purchase, $"{Purchase} (a purchase)");
        var ordId = fields.Read("OrdId", OrderRules.NetPayOrderId().IsMatch, "16 digits");
        var transDate = fields.Read("TransDate", NetPayOrderForm.IsDate, "YYYYMMDD");
        fields.Read("Version", Versions.Contains, string.Join(" or ", Versions));
        fields.Read("Resv", v => v.Length <= ResvCharsMax, $"at most {ResvCharsMax} characters");
        var chkValue = fields.Read("ChkValue", v => v.Length == NetPaySignature.ChkValueChars && v.All(char.IsAsciiHexDigit),
            $"{NetPaySignature.ChkValueChars} hex digits");
        if (fields.HasProblems)
        {
            return Refusal(NetPayRefundApi.BadForm, fields.Problems, StatusCodes.Status400BadRequest);
        }
        if (await merchants.FindWithKeyAsync(merId, ct) is not (_, { } keys))
        {
            return Refusal(NetPayRefundApi.NotOpened, $"MerId {merId} is not an onboarded merchant", StatusCodes.Status403Forbidden);
        }
        var signedText = NetPaySignature.QueryText(merId, transDate, ordId, transType);
        if (!keys.AnyVerifies(time.GetUtcNow(), (spki, _) => NetPaySignature.IsValid(spki, signedText, chkValue)))
        {
            return Refusal(NetPayRefundApi.BadSignature, "ChkValue is the RSA SHA-1 signature of MerId+TransDate+OrdId+TransType by the merchant's key",
                StatusCodes.Status403Forbidden);
        }
        if (await orders.FindAsync(merId, ordId, ct) is not { Protocol: OrderProtocol.NetPay } order || order.TransDate != transDate)
        {
            return Refusal(NoRecord, "no order of this OrdId and TransDate", StatusCodes.Status404NotFound);
        }
        var amount = order.AmountMinor.ToString("D12", CultureInfo.InvariantCulture);
        var status = Status(order, time.GetUtcNow());
        var checkValue = await netPay.SignAsync(NetPaySignature.AnswerText(order.MerchantId, order.OrderId, amount, order.Currency, order.TransDate,
            order.TransType, status), ct);
        return NetPayAnswer.Result(
        [
            new(CodeField, "0"), new("merid", order.MerchantId), new("orderno", order.OrderId), new("amount", amount), new("currencycode", order.Currency),
            new("transdate", order.TransDate), new("transtype", order.TransType), new("status", status), new("checkvalue", checkValue),
            new("GateId", order.GateId ?? ""), new("Priv1", NetPayAnswer.Escape(order.Priv1 ?? "")),
        ], StatusCodes.Status200OK);
    }
}
