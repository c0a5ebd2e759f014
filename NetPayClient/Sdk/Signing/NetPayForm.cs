using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Mesh.NetPay.Signing;

/// <summary>A NetPay purchase (交易类型 0001) as the merchant fills it in.</summary>
/// <param name="MerchantId">MerId: the merchant's 15 digits.</param>
/// <param name="OrderId">OrdId: 16 digits, unique per merchant.</param>
/// <param name="AmountMinor">TransAmt in fen (minor units); sent as 12 zero-padded digits.</param>
/// <param name="TransDate">TransDate: yyyyMMdd.</param>
/// <param name="BgRetUrl">Where the platform's server posts the result (the notification).</param>
/// <param name="PageRetUrl">Where the consumer's browser is sent back with the result; blank for none.</param>
/// <param name="GateId">The bank the consumer chose (4 digits), or blank to choose on the payment page.</param>
/// <param name="Priv1">The merchant's private field, returned as is (at most 60 bytes).</param>
/// <param name="CurrencyId">CuryId: 156 (CNY).</param>
public sealed record NetPayPurchase(string MerchantId, string OrderId, long AmountMinor, string TransDate, string BgRetUrl,
    string PageRetUrl = "", string GateId = "", string Priv1 = "", string CurrencyId = "156");

/// <summary>A NetPay refund of all or part of a paid order.</summary>
/// <param name="MerchantId">MerID: the merchant's 15 digits.</param>
/// <param name="OrderId">OrderId: the paid order's 16 digits.</param>
/// <param name="AmountMinor">RefundAmount in fen; sent as 12 zero-padded digits.</param>
/// <param name="TransDate">TransDate: the order's date, yyyyMMdd.</param>
/// <param name="ReturnUrl">ReturnURL: where the platform posts the refund's result once known; blank for none.</param>
/// <param name="Priv1">The refund's serial (NetPay: unique per day); the same order, date, amount and Priv1 are the same refund.</param>
/// <param name="TransType">0002 first full, 0012 second full, 0102 first partial, 0112 second partial (交易类型).</param>
public sealed record NetPayRefund(string MerchantId, string OrderId, long AmountMinor, string TransDate, string ReturnUrl = "", string Priv1 = "",
    string TransType = NetPayForm.Refund);

/// <summary>A NetPay order query (单笔查询) of one order by its number and date.</summary>
/// <param name="MerchantId">MerId: the merchant's 15 digits.</param>
/// <param name="OrderId">OrdId: the order's 16 digits.</param>
/// <param name="TransDate">TransDate: the order's date, yyyyMMdd.</param>
/// <param name="Resv">Resv: a note of at most 60 characters, not signed, not kept.</param>
public sealed record NetPayQuery(string MerchantId, string OrderId, string TransDate, string Resv = "");

/// <summary>
/// The NetPay form protocol (version 20070129): the merchant signs its purchase and refund forms
/// with RSA SHA-1 (PKCS#1 v1.5) over the concatenated values, <c>ChkValue</c> in upper-case hex
/// (256 digits with the protocol's RSA-1024 key); the platform signs its answers and
/// notifications the same way with the key of its PGID (<c>/v1/platform-netpay-key</c>).
/// </summary>
public static class NetPayForm
{
    /// <summary>The protocol version this SDK speaks.</summary>
    public const string Version = "20070129";

    /// <summary>TransType of a purchase.</summary>
    public const string Purchase = "0001";

    /// <summary>TransType of a refund (the first in full; 0012, 0102 and 0112 are refunds too).</summary>
    public const string Refund = "0002";

    /// <summary>An answer's <c>status</c> when the order is paid.</summary>
    public const string Paid = "1001";

    /// <summary>A refund answer's <c>Status</c>: received (the bank has not answered yet), succeeded, failed.</summary>
    public const string RefundReceived = "1";

    /// <summary>A refund answer's or result's <c>Status</c> when the refund went through.</summary>
    public const string RefundSucceeded = "3";

    /// <summary>A refund answer's or result's <c>Status</c> when the refund failed.</summary>
    public const string RefundFailed = "8";

    /// <summary>The path of the order query form on the gateway.</summary>
    public const string QueryPath = "/pay/Query";

    /// <summary>The path of the payment page's form on the gateway.</summary>
    public const string PurchasePath = "/pay/TransGet";

    /// <summary>The path of the refund form on the gateway.</summary>
    public const string RefundPath = "/pay/Refund";

    /// <summary>The signed text of a purchase: MerId+OrdId+TransAmt+CuryId+TransDate+TransType+Priv1.</summary>
    public static string PurchaseText(NetPayPurchase order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return string.Concat(order.MerchantId, order.OrderId, Amount(order.AmountMinor), order.CurrencyId, order.TransDate, Purchase, order.Priv1);
    }

    /// <summary>The purchase form's fields with <c>ChkValue</c>, in the order the protocol lists them.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> SignPurchase(NetPayPurchase order, MerchantKey key)
    {
        ArgumentNullException.ThrowIfNull(order);
        return
        [
            new("MerId", order.MerchantId), new("OrdId", order.OrderId), new("TransAmt", Amount(order.AmountMinor)), new("CuryId", order.CurrencyId),
            new("TransDate", order.TransDate), new("TransType", Purchase), new("Version", Version), new("BgRetUrl", order.BgRetUrl),
            new("PageRetUrl", order.PageRetUrl), new("GateId", order.GateId), new("Priv1", order.Priv1), new("ChkValue", ChkValue(PurchaseText(order), key)),
        ];
    }

    /// <summary>The signed text of a refund: MerID+TransDate+TransType+OrderId+RefundAmount+Priv1.</summary>
    public static string RefundText(NetPayRefund refund)
    {
        ArgumentNullException.ThrowIfNull(refund);
        return string.Concat(refund.MerchantId, refund.TransDate, refund.TransType, refund.OrderId, Amount(refund.AmountMinor), refund.Priv1);
    }

    /// <summary>The signed text of an order query: MerId+TransDate+OrdId+TransType.</summary>
    public static string QueryText(NetPayQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return string.Concat(query.MerchantId, query.TransDate, query.OrderId, Purchase);
    }

    /// <summary>The order query form's fields with <c>ChkValue</c>, to POST to <see cref="QueryPath"/>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> SignQuery(NetPayQuery query, MerchantKey key)
    {
        ArgumentNullException.ThrowIfNull(query);
        return
        [
            new("MerId", query.MerchantId), new("TransType", Purchase), new("OrdId", query.OrderId), new("TransDate", query.TransDate),
            new("Version", Version), new("Resv", query.Resv), new("ChkValue", ChkValue(QueryText(query), key)),
        ];
    }

    /// <summary>
    /// The fields of a NetPay server-to-server answer (a refund's, a query's), read as NetPay merchants' clients read one (docs/merchant-integration.md): the body
    /// decoded as the GB2312 its envelope declares (GB18030, its superset), the tags stripped, split on <c>&amp;</c>, each
    /// <c>name=value</c> kept raw (a value is never URL-encoded). The refund answer's code is <c>ResponseCode</c>, the
    /// query's <c>ResponeseCode</c> (NetPay's spelling); a refusal carries <c>Message</c> instead of the signed fields.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ReadAnswer(byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var text = CodePagesEncodingProvider.Instance.GetEncoding(54936)!.GetString(body);
        var stripped = new StringBuilder(text.Length);
        var inTag = false;
        foreach (var c in text)
        {
            inTag = c == '<' || (inTag && c != '>');
            if (!inTag && c != '>')
            {
                stripped.Append(c);
            }
        }
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var data in stripped.ToString().Trim().Split('&'))
        {
            if (data.Split('=') is { Length: 2 } nameValue)
            {
                fields[nameValue[0]] = nameValue[1];
            }
        }
        return fields;
    }

    /// <summary>
    /// True when a refund's answer or result (<c>MerID, ProcessDate, TransType, OrderId, RefundAmout, Status, Priv1,
    /// CheckValue</c>) is signed by the platform's PGID key over MerID+ProcessDate+TransType+OrderId+RefundAmout+Status+Priv1.
    /// </summary>
    public static bool IsRefundAnswerSigned(IReadOnlyDictionary<string, string> answer, RSA platformNetPayKey)
    {
        ArgumentNullException.ThrowIfNull(answer);
        string Get(string name) => answer.TryGetValue(name, out var value) ? value : "";
        return IsSigned(string.Concat(Get("MerID"), Get("ProcessDate"), Get("TransType"), Get("OrderId"), Get("RefundAmout"), Get("Status"), Get("Priv1")),
            Get("CheckValue"), platformNetPayKey);
    }

    /// <summary>The refund form's fields with <c>ChkValue</c>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> SignRefund(NetPayRefund refund, MerchantKey key)
    {
        ArgumentNullException.ThrowIfNull(refund);
        return
        [
            new("MerID", refund.MerchantId), new("TransType", refund.TransType), new("OrderId", refund.OrderId), new("RefundAmount", Amount(refund.AmountMinor)),
            new("TransDate", refund.TransDate), new("Version", Version), new("ReturnURL", refund.ReturnUrl), new("Priv1", refund.Priv1),
            new("ChkValue", ChkValue(RefundText(refund), key)),
        ];
    }

    /// <summary>RSA SHA-1 of the UTF-8 text, upper-case hex: NetPay's <c>ChkValue</c>.</summary>
    public static string ChkValue(string text, MerchantKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.IsRsa
            ? Convert.ToHexString(key.Sign(Encoding.UTF8.GetBytes(text), HashAlgorithmName.SHA1))
            : throw new ArgumentException("the NetPay protocol signs with RSA keys only", nameof(key));
    }

    /// <summary>
    /// True when a NetPay answer or notification (<c>merid, orderno, transdate, amount,
    /// currencycode, transtype, status, checkvalue</c>) is signed by the platform's PGID key.
    /// </summary>
    public static bool IsPlatformSigned(IReadOnlyDictionary<string, string> answer, RSA platformNetPayKey)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(platformNetPayKey);
        string Get(string name) => answer.TryGetValue(name, out var value) ? value : "";
        return IsSigned(string.Concat(Get("merid"), Get("orderno"), Get("amount"), Get("currencycode"), Get("transdate"), Get("transtype"), Get("status")),
            Get("checkvalue"), platformNetPayKey);
    }

    private static bool IsSigned(string text, string checkValue, RSA platformNetPayKey)
    {
        ArgumentNullException.ThrowIfNull(platformNetPayKey);
        if (checkValue.Length == 0 || checkValue.Length % 2 != 0 || !checkValue.All(char.IsAsciiHexDigit))
        {
            return false;
        }
        return platformNetPayKey.VerifyData(Encoding.UTF8.GetBytes(text), Convert.FromHexString(checkValue), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);
    }

    /// <summary>
    /// The page that sends the consumer on to the payment page: the signed form, posted by a
    /// one-line script as soon as the page loads, with a button for browsers that run no script.
    /// Pass the script nonce of your Content-Security-Policy as <paramref name="cspNonce"/>.
    /// </summary>
    public static string AutoSubmitPage(Uri action, IEnumerable<KeyValuePair<string, string>> fields, string? cspNonce = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(fields);
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Going to the payment page</title></head><body>")
            .Append("<form id=\"netpay\" method=\"post\" action=\"").Append(WebUtility.HtmlEncode(action.ToString())).Append("\">");
        foreach (var (name, value) in fields)
        {
            html.Append("<input type=\"hidden\" name=\"").Append(WebUtility.HtmlEncode(name)).Append("\" value=\"").Append(WebUtility.HtmlEncode(value)).Append("\">");
        }
        html.Append("<noscript><button type=\"submit\">Continue to payment</button></noscript></form><script")
            .Append(cspNonce is null ? "" : $" nonce=\"{WebUtility.HtmlEncode(cspNonce)}\"")
            .Append(">document.getElementById('netpay').submit();</script></body></html>");
        return html.ToString();
    }

    private static string Amount(long amountMinor) =>
        amountMinor is > 0 and <= 999_999_999_999
            ? amountMinor.ToString("D12", CultureInfo.InvariantCulture)
            : throw new ArgumentOutOfRangeException(nameof(amountMinor), amountMinor, "1 to 999,999,999,999 minor units");
}
