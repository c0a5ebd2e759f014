using System.Net;
using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The NetPay form protocol end to end, as a merchant integrated with NetPay sees it: a signed
/// form to /pay/TransGet, the consumer pays on the payment page, and the browser comes back to
/// PageRetUrl with NetPay's fields signed by the platform's key (status 1001 = paid).
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class NetPayProtocolTests(MeshPlatformFixture platform)
{
    private static readonly string InsufficientFunds = Acquirer.TestCard("622202", 2);

    [Fact]
    public async Task Purchase_Approved_ComesBackToPageRetUrl_WithStatus1001_SignedByThePlatformsNetPayKey()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 12_34, pageRetUrl: "https://shop.example/netpay/return", priv1: "cart-77"));

        var result = await consumer.PayAsync(page, Acquirer.TestCard("622202", 1));
        var answer = TestConsumer.ReturnFields(result);

        Assert.Contains(TestMerchant.Name, page.Html);
        Assert.Contains("¥12.34", WebUtility.HtmlDecode(page.Html));
        Assert.Contains("action=\"https://shop.example/netpay/return\"", result);
        Assert.Equal("1001", answer["status"]);
        Assert.Equal(merchant.MerchantId, answer["merid"]);
        Assert.Equal(ordId, answer["orderno"]);
        Assert.Equal("000000001234", answer["amount"]);
        Assert.Equal("156", answer["currencycode"]);
        Assert.Equal("0001", answer["transtype"]);
        Assert.Equal("cart-77", answer["Priv1"]);
        Assert.Equal(256, answer["checkvalue"].Length);
        Assert.True(await PlatformSignedAsync(answer), "checkvalue verifies with the platform's NetPay key");
    }

    [Fact]
    public async Task Purchase_Declined_Is1002_ThenTheSameOrderNumberMayBePaidAgain_AndOncePaidIsRefused()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var order = merchant.NetPayOrder(ordId, 50_00, pageRetUrl: "https://shop.example/return");

        var declined = TestConsumer.ReturnFields(await consumer.PayAsync(await consumer.StartNetPayAsync(order), InsufficientFunds));
        var paid = TestConsumer.ReturnFields(await consumer.PayAsync(await consumer.StartNetPayAsync(order), Acquirer.TestCard("622202", 1)));
        using var third = await consumer.PostFormAsync("/pay/TransGet", order);

        Assert.Equal("1002", declined["status"]);
        Assert.True(await PlatformSignedAsync(declined));
        Assert.Equal("1001", paid["status"]);
        Assert.Equal(HttpStatusCode.Conflict, third.StatusCode);
        Assert.Equal(2, await platform.ScalarAsync<int>("gatewaydb", "SELECT attempts FROM orders WHERE merchant_id = $1 AND order_id = $2", merchant.MerchantId, ordId));
    }

    [Fact]
    public async Task Version20040916_DoesNotSignPriv1_Version20070129_Does()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var old = merchant.NetPayOrder(TestMerchant.NewOrderId(), 1_00, priv1: "signed-or-not", version: "20040916");
        old["Priv1"] = "changed";
        var current = merchant.NetPayOrder(TestMerchant.NewOrderId(), 1_00, priv1: "signed", version: "20070129");
        current["Priv1"] = "changed";

        using var oldAnswer = await consumer.PostFormAsync("/pay/TransGet", old);
        using var currentAnswer = await consumer.PostFormAsync("/pay/TransGet", current);

        Assert.Equal(HttpStatusCode.Redirect, oldAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, currentAnswer.StatusCode);
    }

    [Fact]
    public async Task ThePaymentIsStored_WithTheCardNumberMaskedAndEncrypted_AndTwoOutboxRows()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var pan = Acquirer.TestCard("621700", 1);

        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 88_00, gateId: "0105")), pan);

        Assert.Equal(pan[..6] + "******" + pan[^4..], await platform.ScalarAsync<string>("gatewaydb",
            "SELECT pan_masked FROM payments WHERE merchant_id = $1 AND order_id = $2 AND status = 'approved'", merchant.MerchantId, ordId));
        var stored = await platform.ScalarAsync<byte[]>("gatewaydb", "SELECT pan_ciphertext FROM payments WHERE order_id = $1", ordId);
        Assert.DoesNotContain(pan, Encoding.ASCII.GetString(stored));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM payments p, orders o WHERE o.order_id = $1 AND (p.pan_masked LIKE '%' || $2 || '%' OR o::text LIKE '%' || $2 || '%')", ordId, pan));
        Assert.Equal(2L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM outbox WHERE merchant_id = $1 AND order_id = $2 AND payload->>'status' = 'paid' AND order_version = 2", merchant.MerchantId, ordId));
    }

    [Fact]
    public async Task Refund_ByNetPaysForm_PartialThenOverTheRemainder_AnswersSignedByThePlatform()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 30_00)), Acquirer.TestCard("622202", 1));

        var first = await RefundAsync(consumer, merchant, ordId, 10_00, "first");
        var over = await RefundAsync(consumer, merchant, ordId, 25_00, "second");
        var forged = merchant.NetPayRefund(ordId, 1_00, "forged");
        forged["RefundAmount"] = "000000000200";
        using var forgedAnswer = await consumer.PostFormAsync("/pay/Refund", forged);

        Assert.Equal(("3", "0"), (first["Status"], first["ResponseCode"]));
        Assert.True(await PlatformSignedAsync(first["MerID"] + first["ProcessDate"] + first["TransType"] + first["OrderId"] + first["RefundAmout"]
            + first["Status"] + first["Priv1"], first["CheckValue"]));
        Assert.Equal(("903", false), (over["ResponseCode"], over.ContainsKey("Status")));
        Assert.Equal(HttpStatusCode.Forbidden, forgedAnswer.StatusCode);
        Assert.Equal(10_00L, await platform.ScalarAsync<long>("gatewaydb", "SELECT refunded_minor FROM orders WHERE order_id = $1", ordId));
    }

    [Fact]
    public async Task Refunds_OfTwoOrders_SameAmountDayAndPriv1_AreTwoRefunds_AndTheSameFormAgainIsTheSameRefund()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var (first, second) = (TestMerchant.NewOrderId(), TestMerchant.NewOrderId());
        foreach (var ordId in new[] { first, second })
        {
            await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 20_00)), Acquirer.TestCard("622202", 1));
        }

        var ofFirst = await RefundAsync(consumer, merchant, first, 5_00, "same");
        var ofSecond = await RefundAsync(consumer, merchant, second, 5_00, "same");
        var ofFirstAgain = await RefundAsync(consumer, merchant, first, 5_00, "same");
        var withoutPriv1 = await RefundAsync(consumer, merchant, first, 3_00, "");
        var withoutPriv1OfSecond = await RefundAsync(consumer, merchant, second, 3_00, "");

        Assert.Equal(("3", "0"), (ofFirst["Status"], ofFirst["ResponseCode"]));
        Assert.Equal(("3", "0"), (ofSecond["Status"], ofSecond["ResponseCode"]));
        Assert.Equal(("3", "0"), (ofFirstAgain["Status"], ofFirstAgain["ResponseCode"]));
        Assert.Equal(ofFirst["CheckValue"], ofFirstAgain["CheckValue"]);
        Assert.Equal(("3", "3"), (withoutPriv1["Status"], withoutPriv1OfSecond["Status"]));
        foreach (var ordId in new[] { first, second })
        {
            Assert.Equal(8_00L, await platform.ScalarAsync<long>("gatewaydb", "SELECT refunded_minor FROM orders WHERE merchant_id = $1 AND order_id = $2",
                merchant.MerchantId, ordId));
            Assert.Equal(2L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM refunds WHERE merchant_id = $1 AND order_id = $2",
                merchant.MerchantId, ordId));
        }
    }

    private static async Task<Dictionary<string, string>> RefundAsync(TestConsumer consumer, TestMerchant merchant, string ordId, long amountMinor, string priv1)
    {
        using var response = await consumer.PostFormAsync("/pay/Refund", merchant.NetPayRefund(ordId, amountMinor, priv1));
        return TestMerchant.ReadNetPayAnswer(await response.Content.ReadAsByteArrayAsync());
    }

    private async Task<bool> PlatformSignedAsync(string text, string checkValue)
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var key = RSA.Create();
        key.ImportFromPem(await http.GetStringAsync("/v1/platform-netpay-key"));
        return key.VerifyData(Encoding.UTF8.GetBytes(text), Convert.FromHexString(checkValue), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);
    }

    private async Task<bool> PlatformSignedAsync(Dictionary<string, string> answer)
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var key = RSA.Create();
        key.ImportFromPem(await http.GetStringAsync("/v1/platform-netpay-key"));
        var text = answer["merid"] + answer["orderno"] + answer["amount"] + answer["currencycode"] + answer["transdate"] + answer["transtype"] + answer["status"];
        return key.KeySize == 1024
            && key.VerifyData(Encoding.UTF8.GetBytes(text), Convert.FromHexString(answer["checkvalue"]), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);
    }
}
