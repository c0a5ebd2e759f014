using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A merchant as a test plays it: onboarded with its own key (the NetPay protocol's RSA-1024, or
/// RSA-2048 / ECDSA P-256 for /v1), signing its orders and checking the platform's answers the
/// way docs/merchant-integration.md and the gateway's OpenAPI describe, with nothing from the gateway's code.
/// </summary>
public sealed class TestMerchant : IDisposable
{
    public const string Name = "Demo Tea House";
    private readonly AsymmetricAlgorithm _key;

    private TestMerchant(string merchantId, AsymmetricAlgorithm key)
    {
        MerchantId = merchantId;
        _key = key;
    }

    public string MerchantId { get; }

    /// <summary>The return-address prefix every test merchant registers: the made-up shop the tests' orders name.</summary>
    public const string ShopPrefix = "https://shop.example/";

    /// <summary>
    /// Onboards a merchant. Unless <paramref name="returnUrlPrefixes"/> says otherwise it registers
    /// <see cref="ShopPrefix"/> and the notification servers running now (https ones only on the
    /// https protocol), under which its NetPay orders' BgRetUrl and PageRetUrl must lie.
    /// </summary>
    public static async Task<TestMerchant> OnboardAsync(MeshPlatformFixture platform, string keyKind = "rsa-1024", string mode = "deferred",
        string protocol = "plain", bool withCertificate = false, string? tlsPinnedSha256 = null, string[]? returnUrlPrefixes = null)
    {
        returnUrlPrefixes ??= [.. new[] { ShopPrefix }.Concat(MerchantServer.LivePrefixes)
            .Where(p => protocol != "https" || p.StartsWith("https://", StringComparison.Ordinal)).Take(10)];
        AsymmetricAlgorithm key = keyKind switch
        {
            "rsa-1024" => RSA.Create(1024),
            "rsa-2048" => RSA.Create(2048),
            _ => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        };
        var merchant = new TestMerchant("8" + RandomNumberGenerator.GetInt32(0, int.MaxValue).ToString("D14", CultureInfo.InvariantCulture), key);
        using var admin = platform.App.CreateHttpClient("gateway", "http");
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        using var created = await admin.PostAsJsonAsync("/admin/merchants", new
        {
            merchantId = merchant.MerchantId,
            name = Name,
            publicKeyPem = withCertificate ? Certificate((RSA)key) : PemEncoding.WriteString("PUBLIC KEY", key.ExportSubjectPublicKeyInfo()),
            notificationMode = mode,
            notificationProtocol = protocol,
            tlsPinnedSha256,
            returnUrlPrefixes,
            feeRatePpm = 6_000,
            feeMinimumMinor = 100,
            settlementAccount = "1202020209000012345",
        });
        created.EnsureSuccessStatusCode();
        return merchant;
    }

    public RSA RsaKey => (RSA)_key;

    /// <summary>The same merchant signing with another key (one it rotated to, or one it gave up): disposing it disposes that key.</summary>
    public TestMerchant SigningWith(AsymmetricAlgorithm key) => new(MerchantId, key);

    private static string Certificate(RSA key) =>
        new CertificateRequest("CN=Demo Tea House, O=Merchant", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1)).ExportCertificatePem();

    public static string NewOrderId() =>
        DateTime.UtcNow.ToString("yyMMdd", CultureInfo.InvariantCulture) + RandomNumberGenerator.GetInt32(0, int.MaxValue).ToString("D10", CultureInfo.InvariantCulture);

    public static string Today => DateTime.UtcNow.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>NetPay's purchase form, signed: RSA SHA-1 over MerId+OrdId+TransAmt+CuryId+TransDate+TransType(+Priv1), upper-case hex.</summary>
    public Dictionary<string, string> NetPayOrder(string ordId, long amountMinor, string pageRetUrl = "", string priv1 = "", string version = "20070129",
        string gateId = "0102", string bgRetUrl = "https://shop.example/netpay/notify")
    {
        var form = new Dictionary<string, string>
        {
            ["MerId"] = MerchantId,
            ["OrdId"] = ordId,
            ["TransAmt"] = amountMinor.ToString("D12", CultureInfo.InvariantCulture),
            ["CuryId"] = "156",
            ["TransDate"] = Today,
            ["TransType"] = "0001",
            ["Version"] = version,
            ["BgRetUrl"] = bgRetUrl,
            ["PageRetUrl"] = pageRetUrl,
            ["GateId"] = gateId,
            ["Priv1"] = priv1,
        };
        form["ChkValue"] = NetPaySign(form["MerId"] + form["OrdId"] + form["TransAmt"] + form["CuryId"] + form["TransDate"] + form["TransType"]
            + (version == "20070129" ? priv1 : ""));
        return form;
    }

    /// <summary>NetPay's refund form, signed over MerID+TransDate+TransType+OrderId+RefundAmount+Priv1.</summary>
    public Dictionary<string, string> NetPayRefund(string orderId, long amountMinor, string priv1, string transType = "0002",
        string returnUrl = "https://shop.example/netpay/refunded")
    {
        var form = new Dictionary<string, string>
        {
            ["MerID"] = MerchantId,
            ["TransType"] = transType,
            ["OrderId"] = orderId,
            ["RefundAmount"] = amountMinor.ToString("D12", CultureInfo.InvariantCulture),
            ["TransDate"] = Today,
            ["Version"] = "20070129",
            ["ReturnURL"] = returnUrl,
            ["Priv1"] = priv1,
        };
        form["ChkValue"] = NetPaySign(form["MerID"] + form["TransDate"] + form["TransType"] + form["OrderId"] + form["RefundAmount"] + priv1);
        return form;
    }

    /// <summary>NetPay's order query form, signed over MerId+TransDate+OrdId+TransType.</summary>
    public Dictionary<string, string> NetPayQuery(string ordId, string? transDate = null)
    {
        var form = new Dictionary<string, string>
        {
            ["MerId"] = MerchantId,
            ["TransType"] = "0001",
            ["OrdId"] = ordId,
            ["TransDate"] = transDate ?? Today,
            ["Version"] = "20060831",
            ["Resv"] = "memo",
        };
        form["ChkValue"] = NetPaySign(form["MerId"] + form["TransDate"] + form["OrdId"] + form["TransType"]);
        return form;
    }

    /// <summary>
    /// A NetPay server-to-server answer read as a NetPay merchant's client reads it: decoded as its envelope's GB2312 (GB18030), the tags
    /// stripped, split on &amp; and =, pairs kept raw.
    /// </summary>
    public static Dictionary<string, string> ReadNetPayAnswer(byte[] body)
    {
        var text = System.Text.RegularExpressions.Regex.Replace(CodePagesEncodingProvider.Instance.GetEncoding(54936)!.GetString(body), "<[^>]*>", "").Trim();
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var data in text.Split('&'))
        {
            if (data.Split('=') is { Length: 2 } nameValue)
            {
                fields[nameValue[0]] = nameValue[1];
            }
        }
        return fields;
    }

    public string NetPaySign(string text) =>
        Convert.ToHexString(((RSA)_key).SignData(Encoding.UTF8.GetBytes(text), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1));

    /// <summary>Adds the /v1 signature: sorted non-empty k=v joined by &amp;, SHA-256 hex, signed, base64.</summary>
    public Dictionary<string, string?> SignV1(Dictionary<string, string?> fields, params (string Name, string Value)[] alsoSigned)
    {
        var signed = new Dictionary<string, string?>(fields);
        foreach (var (name, value) in alsoSigned)
        {
            signed[name] = value;
        }
        var digest = Encoding.ASCII.GetBytes(Digest(signed));
        fields["signature"] = Convert.ToBase64String(_key is RSA rsa
            ? rsa.SignData(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : ((ECDsa)_key).SignData(digest, HashAlgorithmName.SHA256));
        return fields;
    }

    public static string Canonical(IEnumerable<KeyValuePair<string, string?>> fields) =>
        string.Join('&', fields.Where(f => f.Key != "signature" && !string.IsNullOrEmpty(f.Value)).OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => $"{Escape(f.Key)}={Escape(f.Value!)}"));

    private static string Escape(string text) => text.Replace("%", "%25", StringComparison.Ordinal).Replace("&", "%26", StringComparison.Ordinal)
        .Replace("=", "%3D", StringComparison.Ordinal);

    public static string Digest(IEnumerable<KeyValuePair<string, string?>> fields) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(fields))));

    /// <summary>A signed /v1 query string (merId, timestamp, the given parameters, signature); path values are signed too.</summary>
    public string Query(IEnumerable<(string Name, string Value)> parameters, params (string Name, string Value)[] pathValues)
    {
        var fields = new Dictionary<string, string?> { ["merId"] = MerchantId, ["timestamp"] = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) };
        foreach (var (name, value) in parameters)
        {
            fields[name] = value;
        }
        SignV1(fields, pathValues);
        return string.Join('&', fields.Select(f => $"{f.Key}={Uri.EscapeDataString(f.Value!)}"));
    }

    /// <summary>Checks a /v1 answer's signature with the platform certificate's ECDSA P-256 key (DER, as openssl makes and reads it): every top-level string field but signature.</summary>
    public static bool PlatformSigned(JsonElement answer, ECDsa platformKey)
    {
        var fields = answer.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String)
            .Select(p => new KeyValuePair<string, string?>(p.Name, p.Value.GetString()));
        var signature = Convert.FromBase64String(answer.GetProperty("signature").GetString()!);
        return platformKey.VerifyData(Encoding.ASCII.GetBytes(Digest(fields)), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    public void Dispose() => _key.Dispose();
}
