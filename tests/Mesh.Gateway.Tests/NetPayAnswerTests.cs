using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Pages;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Tests;

/// <summary>
/// NetPay's refund answer byte for byte: the fixture <c>TestVectors/netpay-refund-answer.html</c>
/// was made with openssl and the published NetPay test key standing in for the platform's (see
/// docs/merchant-integration.md), at a fixed time; the gateway's code must give the same bytes, and
/// a merchant's NetPay client (strip the tags, split on &amp; and =, verify) must read it.
/// </summary>
public sealed partial class NetPayAnswerTests
{
    private const string Fixture = "TestVectors/netpay-refund-answer.html";

    [Fact]
    public void RefundAnswer_WithTheTestKeyAtAFixedTime_IsTheFixturesBytes()
    {
        using var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText("TestVectors/merchant-rsa1024.key.pem"));
        var text = NetPaySignature.RefundAnswerText("808080000000001", "20261126", "0002", "2026112600000001", "000000003000", NetPayRefundApi.Succeeded,
            "1126-r1");
        var checkValue = Convert.ToHexString(key.SignData(Encoding.UTF8.GetBytes(text), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1));

        var bytes = NetPayAnswer.Bytes(NetPayRefundApi.Answer("808080000000001", "20261126", "103015", "0002", "2026112600000001", "000000003000",
            NetPayRefundApi.Succeeded, "1126-r1", checkValue));

        Assert.Equal(File.ReadAllBytes(Fixture), bytes);
    }

    /// <summary>Read as a NetPay merchant's client reads a refund answer: the tags stripped and trimmed, split on <c>&amp;</c>, then on <c>=</c>, keeping pairs, then verified.</summary>
    [Fact]
    public void RefundAnswer_ParsedAsNetPaysPhpDemoDoes_IsAccepted_Status3_AndItsCheckValueVerifies()
    {
        var output = Encoding.Latin1.GetString(File.ReadAllBytes(Fixture));
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var data in Tags().Replace(output, "").Trim().Split('&'))
        {
            if (data.Split('=') is { Length: 2 } nameValue)
            {
                fields[nameValue[0]] = nameValue[1];
            }
        }
        using var platform = RSA.Create();
        platform.ImportFromPem(File.ReadAllText("TestVectors/merchant-rsa1024.pub.pem"));
        var plain = fields["MerID"] + fields["ProcessDate"] + fields["TransType"] + fields["OrderId"] + fields["RefundAmout"] + fields["Status"] + fields["Priv1"];

        Assert.Equal("0", fields["ResponseCode"]);
        Assert.Equal("3", fields["Status"]);
        Assert.Equal("000000003000", fields["RefundAmout"]);
        Assert.Equal(["ResponseCode", "MerID", "ProcessDate", "SendTime", "TransType", "OrderId", "RefundAmout", "Status", "Priv1", "CheckValue"], fields.Keys);
        Assert.True(platform.VerifyData(Encoding.Latin1.GetBytes(plain), Convert.FromHexString(fields["CheckValue"]), HashAlgorithmName.SHA1,
            RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void AnAnswer_IsInNetPaysGb2312Envelope_AndChineseIsEncodedGb18030()
    {
        var bytes = NetPayAnswer.Bytes([new("ResponseCode", "0"), new("Priv1", "退款")]);

        Assert.Equal(
            [.. Encoding.ASCII.GetBytes(NetPayAnswer.Head + "ResponseCode=0&Priv1="), 0xCD, 0xCB, 0xBF, 0xEE, .. Encoding.ASCII.GetBytes(NetPayAnswer.Tail)],
            bytes);
    }

    [Fact]
    public void ARefusal_CarriesItsCodeAndAMessage_AndNoSeparatorOfTheMessageSplitsIt()
    {
        var text = NetPayAnswer.Text([new("ResponseCode", NetPayRefundApi.NoOriginal), new("Message", NetPayAnswer.Escape("no such order & status=1001"))]);

        Assert.Equal(NetPayAnswer.Head + "ResponseCode=402&Message=no such order %26 status%3D1001" + NetPayAnswer.Tail, text);
    }

    [Theory]
    [InlineData("serial-20261126-01", true)]
    [InlineData("退款流水1", true)]
    [InlineData("a&Status=3", false)]
    [InlineData("<b>", false)]
    [InlineData("50%", false)]
    [InlineData("a+b", false)]
    [InlineData("line\nbreak", false)]
    public void ARefundsPriv1_IsSentRaw_OnlyWhenNoParserCanSplitIt(string priv1, bool safe) => Assert.Equal(safe, NetPayAnswer.IsRawSafe(priv1));

    [Theory]
    [InlineData("paid", 0, false, "1001")]
    [InlineData("paid", 100, false, "1003")]
    [InlineData("created", 0, false, "1000")]
    [InlineData("created", 0, true, "1002")]
    [InlineData("pending", 0, false, "1004")]
    [InlineData("failed", 0, false, "1002")]
    [InlineData("closed", 0, true, "1002")]
    [InlineData("voided", 0, false, "1006")]
    public void TheQuerysStatus_Is1001OnlyForAPaidOrderWithNothingRefunded(string status, long refundedMinor, bool ended, string expected)
    {
        var now = DateTimeOffset.Parse("2026-11-26T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var order = new Order("808080000000001", "2026112600000001", OrderProtocol.NetPay, 30_00, "156", "20261126", "0001", "20070129", null, null, null, null,
            status, 2, 1, null, null, status == "paid" ? 30_00 : 0, refundedMinor, now.AddMinutes(-5), now, null, null, null, null,
            ended ? now.AddMinutes(-1) : now.AddMinutes(25), 0);

        Assert.Equal(expected, NetPayQueryApi.Status(order, now));
    }

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();
}
