using System.Security.Cryptography;
using Mesh.NetPay.Signing;

namespace Mesh.NetPayClient.Tests;

/// <summary>
/// NetPay's server-to-server messages as the SDK makes and reads them: the refund's four
/// TransTypes, the order query with the fixed key (the ChkValue docs/merchant-integration.md
/// gives), and the refund answer's exact bytes (the gateway's fixture), read as merchants' NetPay clients do.
/// </summary>
public sealed class NetPayAnswerTests
{
    [Fact]
    public void TheFixedQuery_SignsMerIdTransDateOrdIdTransType_AsTheDocumentationSays()
    {
        using var key = MerchantKey.FromPem(SignatureTests.Vector("merchant-rsa1024.key.pem"));
        var query = new NetPayQuery("808080000000001", "2026112600000001", "20261126");

        var form = NetPayForm.SignQuery(query, key).ToDictionary();

        Assert.Equal("8080800000000012026112620261126000000010001", NetPayForm.QueryText(query));
        Assert.Equal(["MerId", "TransType", "OrdId", "TransDate", "Version", "Resv", "ChkValue"], form.Keys);
        Assert.Equal("5FA7C65D8812006A3A97E20A7FDAB4BAABC57607C6232574436FBCBFC14B9D314A03973473FCCB680BA34E621615DF44A7B9488BA0983AB978B028E98F1D428B9A78A34440C79E9AF247FFAA73D83F6C74D766A943858437AF56C4BD29C612EEF121915A64C68B0FD10509160A49C1AC5E8A771A3E416E01DA0EE4C9E9C3A174",
            form["ChkValue"]);
    }

    [Theory]
    [InlineData("0002")]
    [InlineData("0012")]
    [InlineData("0102")]
    [InlineData("0112")]
    public void ARefund_SignsItsOwnTransType(string transType)
    {
        using var key = MerchantKey.FromPem(SignatureTests.Vector("merchant-rsa1024.key.pem"));
        var refund = new NetPayRefund("808080000000001", "2026112600000001", 30_00, "20261126", Priv1: "1126-r1", TransType: transType);

        var form = NetPayForm.SignRefund(refund, key).ToDictionary();

        Assert.Equal(transType, form["TransType"]);
        Assert.Equal($"80808000000000120261126{transType}2026112600000001000000003000" + "1126-r1", NetPayForm.RefundText(refund));
    }

    [Fact]
    public void TheFixedRefundAnswer_IsReadAsNetPaysDemoReadsIt_AndItsCheckValueIsTheKeys()
    {
        var answer = NetPayForm.ReadAnswer(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestVectors", "netpay-refund-answer.html")));
        using var key = RSA.Create();
        key.ImportFromPem(SignatureTests.Vector("merchant-rsa1024.pub.pem"));
        using var other = RSA.Create(1024);
        var tampered = answer.ToDictionary();
        tampered["Status"] = "1";

        Assert.Equal(("0", "3", "000000003000", "1126-r1"), (answer["ResponseCode"], answer["Status"], answer["RefundAmout"], answer["Priv1"]));
        Assert.True(NetPayForm.IsRefundAnswerSigned(answer, key));
        Assert.False(NetPayForm.IsRefundAnswerSigned(tampered, key));
        Assert.False(NetPayForm.IsRefundAnswerSigned(answer, other));
    }

    [Fact]
    public void ARefusal_IsItsCodeAndMessage()
    {
        var answer = NetPayForm.ReadAnswer(System.Text.Encoding.ASCII.GetBytes(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=GB2312\" /></head><body>ResponeseCode=307&Message=no order</body></html>"));

        Assert.Equal(new Dictionary<string, string> { ["ResponeseCode"] = "307", ["Message"] = "no order" }, answer);
    }
}
