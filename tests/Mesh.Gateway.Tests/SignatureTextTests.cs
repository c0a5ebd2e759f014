using Mesh.Gateway.Pages;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Tests;

/// <summary>The texts merchants sign, exactly as docs/merchant-integration.md gives them for NetPay and /v1.</summary>
public sealed class SignatureTextTests
{
    [Fact]
    public void NetPayOrderText_Version20070129SignsPriv1_Version20040916DoesNot()
    {
        Assert.Equal("808080000000001" + "0000000000000001" + "000000001234" + "156" + "20261126" + "0001" + "memo",
            NetPaySignature.OrderText("808080000000001", "0000000000000001", "000000001234", "156", "20261126", "0001", "20070129", "memo"));
        Assert.Equal("808080000000001" + "0000000000000001" + "000000001234" + "156" + "20261126" + "0001",
            NetPaySignature.OrderText("808080000000001", "0000000000000001", "000000001234", "156", "20261126", "0001", "20040916", "memo"));
    }

    [Fact]
    public void CanonicalString_DropsSignatureAndEmptyValues_SortsByName_JoinsKeyValuePairs()
    {
        var fields = new Dictionary<string, string?> { ["txnAmt"] = "100", ["merId"] = "808080000000001", ["backUrl"] = "", ["signature"] = "x", ["orderId"] = "A1" };

        Assert.Equal("merId=808080000000001&orderId=A1&txnAmt=100", CanonicalSignature.CanonicalString(fields));
    }

    /// <summary>A value holding <c>&amp;</c> or <c>=</c> could once pass for other fields under one signature; escaped, it cannot.</summary>
    [Fact]
    public void CanonicalString_EscapesPercentAmpersandAndEquals_SoTwoFieldSetsCannotShareOneString()
    {
        var smuggled = new Dictionary<string, string?> { ["merId"] = "808080000000001", ["reqReserved"] = "x&txnAmt=1" };
        var honest = new Dictionary<string, string?> { ["merId"] = "808080000000001", ["reqReserved"] = "x", ["txnAmt"] = "1" };
        var preEscaped = new Dictionary<string, string?> { ["merId"] = "808080000000001", ["reqReserved"] = "x%26txnAmt%3D1" };

        Assert.Equal("merId=808080000000001&reqReserved=x%26txnAmt%3D1", CanonicalSignature.CanonicalString(smuggled));
        Assert.Equal("merId=808080000000001&reqReserved=x&txnAmt=1", CanonicalSignature.CanonicalString(honest));
        Assert.Equal("merId=808080000000001&reqReserved=x%2526txnAmt%253D1", CanonicalSignature.CanonicalString(preEscaped));
        Assert.NotEqual(CanonicalSignature.SignedBytes(smuggled), CanonicalSignature.SignedBytes(honest));
    }

    [Fact]
    public void TheSignedBytes_AreTheAsciiOfTheCanonicalStringsSha256Hex()
    {
        var fields = new Dictionary<string, string?> { ["a"] = "1", ["b"] = "2" };

        // printf 'a=1&b=2' | sha256sum
        Assert.Equal("8e85be58c1c372ac29fe7bfa80d8ddcbd04a4032c7b51c1c026d67c55b1ab23f", System.Text.Encoding.ASCII.GetString(CanonicalSignature.SignedBytes(fields)));
    }

    [Theory]
    [InlineData("12/30", "3012")]
    [InlineData("0127", "2701")]
    [InlineData("13/30", null)]
    [InlineData("00/30", null)]
    [InlineData("1/30", null)]
    [InlineData("", null)]
    public void ExpiryAsPrinted_BecomesIsoYyMm(string printed, string? yymm) => Assert.Equal(yymm, PaymentPageApi.ExpiryYyMm(printed));
}
