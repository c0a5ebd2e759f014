using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Mesh.NetPay.Signing;

namespace Mesh.NetPayClient.Tests;

/// <summary>
/// The SDK's signatures against openssl's: a fixed key and a fixed order give the very bytes
/// <c>openssl dgst -sign</c> gave (RSA PKCS#1 v1.5 is deterministic; the vectors were made with
/// openssl, not with this code, and are the ones docs/merchant-integration.md shows), and
/// openssl verifies what the SDK signs.
/// </summary>
public class SignatureTests
{
    public static readonly Dictionary<string, string?> FixedOrder = new()
    {
        ["merId"] = "808080000000001",
        ["orderId"] = "DOC-20261126-0001",
        ["txnAmt"] = "12800",
        ["currencyCode"] = "CNY",
        ["txnDate"] = "20261126",
        ["backUrl"] = "https://shop.example/netpay/notify",
        ["frontUrl"] = "",
    };

    public static string Vector(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestVectors", name)).Trim();

    [Fact]
    public void V1_TheFixedOrder_HasTheCanonicalStringAndDigestTheDocumentShows()
    {
        Assert.Equal("backUrl=https://shop.example/netpay/notify&currencyCode=CNY&merId=808080000000001&orderId=DOC-20261126-0001&txnAmt=12800&txnDate=20261126",
            V1Signature.CanonicalString(FixedOrder));
        Assert.Equal("2e2752bd25c64a1a6cdad7818a95fc646fbd74be7fb57752b54cff2a54f6737b", V1Signature.Digest(FixedOrder));
    }

    /// <summary>
    /// Before values were escaped, {reqReserved: "x&amp;txnAmt=1"} and {reqReserved: "x", txnAmt: "1"} gave one
    /// canonical string, so one signature stood for both; now <c>%</c>, <c>&amp;</c> and <c>=</c> inside a
    /// value are percent-encoded and the two differ.
    /// </summary>
    [Theory]
    [InlineData("x&txnAmt=1", "x", "1")]
    [InlineData("x%26txnAmt%3D1", "x", "1")]
    public void V1_TwoFieldSetsThatOnceGaveOneString_NowGiveTwo(string smuggled, string reqReserved, string txnAmt)
    {
        var one = new Dictionary<string, string?> { ["merId"] = "808080000000001", ["reqReserved"] = smuggled };
        var other = new Dictionary<string, string?> { ["merId"] = "808080000000001", ["reqReserved"] = reqReserved, ["txnAmt"] = txnAmt };

        Assert.Equal("merId=808080000000001&reqReserved=x&txnAmt=1", string.Join('&', other.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}")));
        Assert.NotEqual(V1Signature.CanonicalString(one), V1Signature.CanonicalString(other));
        Assert.NotEqual(V1Signature.Digest(one), V1Signature.Digest(other));
    }

    [Fact]
    public void V1_PercentAmpersandAndEquals_AreEscapedInTheCanonicalString_AsTheDocumentShows()
    {
        var order = new Dictionary<string, string?>(FixedOrder) { ["reqReserved"] = "cart=7&gift=100%" };

        Assert.Equal("backUrl=https://shop.example/netpay/notify&currencyCode=CNY&merId=808080000000001&orderId=DOC-20261126-0001"
            + "&reqReserved=cart%3D7%26gift%3D100%25&txnAmt=12800&txnDate=20261126", V1Signature.CanonicalString(order));
    }

    [Fact]
    public void V1_AnRsa1024Key_IsRefusedForSigning_ItSignsNetPayFormsOnly()
    {
        using var key = MerchantKey.FromPem(Vector("merchant-rsa1024.key.pem"));

        Assert.Throws<ArgumentException>(() => V1Signature.Sign(FixedOrder, key));
    }

    [Fact]
    public void V1_TheFixedKeyAndOrder_GiveOpensslsSignature()
    {
        using var key = MerchantKey.FromPem(Vector("merchant-rsa2048.key.pem"));

        Assert.Equal(Vector("v1-signature.txt"), V1Signature.Sign(FixedOrder, key));
    }

    [Fact]
    public void NetPay_TheFixedKeyAndPurchase_GiveOpensslsChkValue()
    {
        using var key = MerchantKey.FromPem(Vector("merchant-rsa1024.key.pem"));
        var purchase = new NetPayPurchase("808080000000001", "2026112600000001", 128_00, "20261126", "https://shop.example/netpay/notify");

        var form = NetPayForm.SignPurchase(purchase, key).ToDictionary();

        Assert.Equal("8080800000000012026112600000001000000012800156202611260001", NetPayForm.PurchaseText(purchase));
        Assert.Equal(Vector("netpay-chkvalue.txt"), form["ChkValue"]);
        Assert.Equal(256, form["ChkValue"].Length);
        Assert.Equal("000000012800", form["TransAmt"]);
    }

    [Fact]
    public async Task V1_ASignatureTheSdkMakes_OpensslVerifies_AndOneOverOtherFieldsItRefuses()
    {
        using var key = MerchantKey.CreateRsa(2048);
        var dir = Directory.CreateTempSubdirectory("netpay-openssl-");
        try
        {
            var publicKey = Path.Combine(dir.FullName, "pub.pem");
            var signature = Path.Combine(dir.FullName, "sig.bin");
            var digest = Path.Combine(dir.FullName, "digest.txt");
            var tampered = Path.Combine(dir.FullName, "tampered.txt");
            await File.WriteAllTextAsync(publicKey, key.ExportPublicKeyPem());
            var fields = new Dictionary<string, string?>(FixedOrder) { ["orderId"] = "SDK-" + Guid.NewGuid().ToString("N")[..12] };
            await File.WriteAllBytesAsync(signature, Convert.FromBase64String(V1Signature.Sign(fields, key)));
            await File.WriteAllTextAsync(digest, V1Signature.Digest(fields));
            await File.WriteAllTextAsync(tampered, V1Signature.Digest(new Dictionary<string, string?>(fields) { ["txnAmt"] = "1" }));

            var (verified, output) = await OpensslAsync("dgst", "-sha256", "-verify", publicKey, "-signature", signature, digest);
            var (refused, _) = await OpensslAsync("dgst", "-sha256", "-verify", publicKey, "-signature", signature, tampered);

            Assert.Equal(0, verified);
            Assert.Contains("Verified OK", output);
            Assert.NotEqual(0, refused);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void EmptyValues_AndTheSignatureField_AreNotSigned_ButEveryOtherFieldIs()
    {
        using var key = MerchantKey.CreateEcdsaP256();
        var fields = new Dictionary<string, string?>(FixedOrder);
        V1Signature.SignInPlace(fields, key);
        var withEmpty = new Dictionary<string, string?>(fields) { ["reqReserved"] = "" };
        var changed = new Dictionary<string, string?>(fields) { ["txnAmt"] = "12801" };
        var ec = (ECDsa)key.Algorithm;
        bool Verifies(Dictionary<string, string?> f) =>
            ec.VerifyData(Encoding.ASCII.GetBytes(V1Signature.Digest(f)), Convert.FromBase64String(fields["signature"]!), HashAlgorithmName.SHA256);

        Assert.True(Verifies(withEmpty));
        Assert.False(Verifies(changed));
    }

    [Fact]
    public void TheMerchantIntegrationPage_ShowsTheKeysAndSignaturesTheseTestsCheck()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Mesh.sln")))
        {
            root = root.Parent;
        }
        var page = File.ReadAllText(Path.Combine(root!.FullName, "docs", "merchant-integration.md"));

        foreach (var vector in new[] { "merchant-rsa2048.key.pem", "merchant-rsa1024.key.pem", "v1-signature.txt", "netpay-chkvalue.txt" })
        {
            Assert.Contains(Vector(vector), page);
        }
        Assert.Contains(V1Signature.CanonicalString(FixedOrder), page);
        Assert.Contains(V1Signature.Digest(FixedOrder), page);
    }

    [Fact]
    public void AKeyFile_OfNoKnownKind_IsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => MerchantKey.FromPem("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"));
        Assert.Contains("private key", error.Message);
    }

    [Fact]
    public void TheAutoSubmitPage_PostsEveryFieldToTheGateway_Escaped()
    {
        var page = NetPayForm.AutoSubmitPage(new Uri("https://pay.example/pay/TransGet"), [new("Priv1", "\"><script>x</script>"), new("MerId", "808080000000001")], "n0nce");

        Assert.Contains("action=\"https://pay.example/pay/TransGet\"", page);
        Assert.Contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\"", page);
        Assert.Contains("<script nonce=\"n0nce\">", page);
        Assert.DoesNotContain("<script>x", page);
    }

    internal static async Task<(int ExitCode, string Output)> OpensslAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
