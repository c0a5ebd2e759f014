using System.Globalization;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Orders;

/// <summary>A NetPay purchase form, read: the order, the text the merchant signed and the signature.</summary>
public sealed record NetPayOrder(OrderRequest Order, string SignedText, string ChkValue);

/// <summary>
/// Reads NetPay's purchase form (docs/merchant-integration.md): <c>MerId, OrdId, TransAmt, CuryId, TransDate,
/// TransType, Version, BgRetUrl, PageRetUrl, GateId, Priv1, ChkValue</c>, each in its exact format.
/// Every problem is named by its field.
/// </summary>
public static class NetPayOrderForm
{
    public const string Purchase = "0001";
    public static readonly string[] Versions = ["20070129", "20040916"];
    private static readonly string[] Fields = ["MerId", "OrdId", "TransAmt", "CuryId", "TransDate", "TransType", "Version", "BgRetUrl", "PageRetUrl", "GateId", "Priv1", "ChkValue"];

    public static (NetPayOrder? Order, Dictionary<string, string[]> Problems) Read(IFormCollection form)
    {
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string Field(string name, Func<string, bool> ok, string rule, bool optional = false)
        {
            var values = form[name];
            var value = values.Count == 1 ? values[0] ?? "" : "";
            if (values.Count > 1 || (!optional && value.Length == 0) || (value.Length > 0 && !ok(value)))
            {
                problems[name] = [values.Count > 1 ? "given once" : rule];
            }
            return value;
        }
        var merId = Field("MerId", OrderRules.MerchantId().IsMatch, "15 digits");
        var ordId = Field("OrdId", OrderRules.NetPayOrderId().IsMatch, "16 digits");
        var transAmt = Field("TransAmt", v => v.Length == 12 && v.All(char.IsAsciiDigit), "12 digits, minor units, zero-padded");
        var curyId = Field("CuryId", v => v.Length == 3 && v.All(char.IsAsciiDigit), "3 digits (156)");
        var transDate = Field("TransDate", IsDate, "YYYYMMDD");
        var transType = Field("TransType", v => v == Purchase, $"{Purchase} (purchase)");
        var version = Field("Version", Versions.Contains, string.Join(" or ", Versions));
        var bgRetUrl = Field("BgRetUrl", v => v.Length <= 200, "a URL", optional: true);
        var pageRetUrl = Field("PageRetUrl", v => v.Length <= 200, "a URL", optional: true);
        var gateId = Field("GateId", v => v.Length == 4 && v.All(char.IsAsciiDigit), "blank or 4 digits", optional: true);
        var priv1 = Field("Priv1", v => v.Length <= 200, "at most 60 bytes", optional: true);
        var chkValue = Field("ChkValue", v => v.Length == NetPaySignature.ChkValueChars && v.All(char.IsAsciiHexDigit),
            $"{NetPaySignature.ChkValueChars} hex digits");
        foreach (var unknown in form.Keys.Where(k => !Fields.Contains(k)).Take(5))
        {
            problems[unknown] = ["not a field of the NetPay purchase form"];
        }
        if (problems.Count > 0)
        {
            return (null, problems);
        }
        var order = new OrderRequest(merId, ordId, OrderProtocol.NetPay, long.Parse(transAmt, CultureInfo.InvariantCulture), curyId, transDate, transType,
            version, Blank(bgRetUrl), Blank(pageRetUrl), Blank(gateId), priv1);
        return (new NetPayOrder(order, NetPaySignature.OrderText(merId, ordId, transAmt, curyId, transDate, transType, version, priv1), chkValue), problems);
    }

    public static bool IsDate(string text) =>
        OrderRules.Date().IsMatch(text) && DateOnly.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    private static string? Blank(string value) => value.Length == 0 ? null : value;
}
