using System.Text.RegularExpressions;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Options;

namespace Mesh.Gateway.Orders;

/// <summary>
/// The checks both front doors make of an order, each failure named by the field it concerns:
/// amount above zero and under the limit, a known currency, the order number's format, the URLs'
/// form and length, the bank (GateId, an enabled <see cref="GateCodes"/> code) and the merchant's private field.
/// </summary>
public static partial class OrderRules
{
    public const string Cny = "156";
    public const int NetPayUrlBytesMax = 80;
    public const int V1UrlCharsMax = 256;
    public const int Priv1BytesMax = 60;

    /// <summary>ISO 4217: the currencies the platform's issuers hold accounts in, alphabetic to numeric.</summary>
    public static readonly IReadOnlyDictionary<string, string> Currencies = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["CNY"] = Cny,
        [Cny] = Cny,
    };

    public static void Check(OrderRequest order, GatewayOptions options, IReadOnlyList<GateCode> gates, IDictionary<string, string[]> problems, bool netPayNames)
    {
        string Name(string netPay, string v1) => netPayNames ? netPay : v1;
        if (order.AmountMinor <= 0 || order.AmountMinor > options.OrderAmountMinorMax)
        {
            problems[Name("TransAmt", "txnAmt")] = [$"above 0 and at most {options.OrderAmountMinorMax} minor units"];
        }
        if (order.Currency != Cny)
        {
            problems[Name("CuryId", "currencyCode")] = ["156 (CNY) is the currency the platform accepts"];
        }
        var urlMax = netPayNames ? NetPayUrlBytesMax : V1UrlCharsMax;
        foreach (var (field, url) in new[] { (Name("BgRetUrl", "backUrl"), order.BgRetUrl), (Name("PageRetUrl", "frontUrl"), order.PageRetUrl) })
        {
            if (!string.IsNullOrEmpty(url) && (System.Text.Encoding.UTF8.GetByteCount(url) > urlMax || !IsWebAddress(url)))
            {
                problems[field] = [$"an absolute http or https address of at most {urlMax} bytes"];
            }
        }
        if (!string.IsNullOrEmpty(order.GateId) && gates.All(g => g.GateId != order.GateId))
        {
            problems[Name("GateId", "gateId")] = [$"blank, or an enabled gate code: {string.Join(", ", gates.Select(g => g.GateId))}"];
        }
        if (order.Priv1 is { } priv1 && (System.Text.Encoding.UTF8.GetByteCount(priv1) > Priv1BytesMax || priv1.Any(char.IsControl)))
        {
            problems[Name("Priv1", "reqReserved")] = [$"at most {Priv1BytesMax} bytes, no control characters"];
        }
    }

    /// <summary>
    /// The checks of an order's addresses against its merchant: on the https notification protocol
    /// every address is https; a NetPay order's BgRetUrl and PageRetUrl, which its ChkValue does not
    /// cover, lie under the merchant's <see cref="Merchant.ReturnUrlPrefixes"/> (none registered:
    /// neither is accepted). A <c>/v1</c> order's addresses are signed by the merchant.
    /// </summary>
    public static void CheckAddresses(OrderRequest order, Merchant merchant, IDictionary<string, string[]> problems, bool netPayNames)
    {
        string Name(string netPay, string v1) => netPayNames ? netPay : v1;
        foreach (var (field, url) in new[] { (Name("BgRetUrl", "backUrl"), order.BgRetUrl), (Name("PageRetUrl", "frontUrl"), order.PageRetUrl) })
        {
            if (string.IsNullOrEmpty(url) || problems.ContainsKey(field))
            {
                continue;
            }
            if (AddressProblem(url, merchant, netPayNames) is { } problem)
            {
                problems[field] = [problem];
            }
        }
    }

    /// <summary>
    /// What is wrong with a well-formed address of <paramref name="merchant"/>'s (a NetPay BgRetUrl, PageRetUrl or a refund's
    /// ReturnURL when <paramref name="underPrefixes"/>), or null: on the https notification protocol only https; under a registered
    /// prefix when asked.
    /// </summary>
    public static string? AddressProblem(string url, Merchant merchant, bool underPrefixes)
    {
        ArgumentNullException.ThrowIfNull(merchant);
        if (merchant.NotificationProtocol == "https" && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return "an https address: the merchant's notification protocol is https, which never sends to http";
        }
        if (underPrefixes && !ReturnUrlPrefixes.IsUnderAny(url, merchant.ReturnUrlPrefixes))
        {
            return merchant.ReturnUrlPrefixes.Length == 0
                ? "not accepted: the merchant registered no return address prefixes (returnUrlPrefixes) at onboarding"
                : $"an address under one the merchant registered at onboarding ({string.Join(", ", merchant.ReturnUrlPrefixes)})";
        }
        return null;
    }

    public static bool IsWebAddress(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && uri.UserInfo.Length == 0;

    [GeneratedRegex("^[0-9]{16}$")]
    public static partial Regex NetPayOrderId();

    [GeneratedRegex("^[0-9A-Za-z_-]{1,32}$")]
    public static partial Regex V1OrderId();

    [GeneratedRegex("^[0-9]{15}$")]
    public static partial Regex MerchantId();

    [GeneratedRegex("^[0-9]{8}$")]
    public static partial Regex Date();
}
