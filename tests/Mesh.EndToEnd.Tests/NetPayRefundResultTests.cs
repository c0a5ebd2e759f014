using System.Net;
using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A NetPay refund as NetPay's integrators see it: the answer in NetPay's fields and codes, the
/// result posted to the refund's own ReturnURL once known, and nothing at the order's BgRetUrl
/// that a legacy payment handler (one that checks only the signature and <c>status=1001</c>) would
/// book as money received. Refusals carry NetPay's code and a Message, and change nothing.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class NetPayRefundResultTests(MeshPlatformFixture platform)
{
    private static readonly string ApprovedCard = Acquirer.TestCard("622202", 1);

    [Fact]
    public async Task ARefundsResult_GoesToItsReturnUrl_InNetPaysFields_AndNothingAtBgRetUrlPassesALegacyPaymentHandler()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        using var netPayKey = await NetPayKeyAsync();
        var ordId = TestMerchant.NewOrderId();
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 40_00, bgRetUrl: server.Url, priv1: "cart-9")), ApprovedCard);
        Assert.NotNull(await server.WaitForAsync(r => r.Path == "/notify" && Form(r).GetValueOrDefault("status") == "1001"));
        var beforeRefund = server.Received.Count;

        using var response = await consumer.PostFormAsync("/pay/Refund",
            merchant.NetPayRefund(ordId, 15_00, "rf-0001", transType: "0102", returnUrl: server.Url + "/refund"));
        var answer = TestMerchant.ReadNetPayAnswer(await response.Content.ReadAsByteArrayAsync());
        var result = await server.WaitForAsync(r => r.Path == "/notify/refund");
        await NothingLeftToSendAsync(merchant, ordId);
        var sentDuringTheRefund = server.Received.Skip(beforeRefund).ToList();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=GB2312", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(["ResponseCode", "MerID", "ProcessDate", "SendTime", "TransType", "OrderId", "RefundAmout", "Status", "Priv1", "CheckValue"], answer.Keys);
        Assert.Equal(("0", "3", "0102", "000000001500", "rf-0001"), (answer["ResponseCode"], answer["Status"], answer["TransType"], answer["RefundAmout"], answer["Priv1"]));
        Assert.True(RefundSigned(answer, netPayKey), "the answer's CheckValue is the platform's");
        Assert.NotNull(result);
        var posted = Form(result);
        Assert.Equal(("0", "3", "0102", "000000001500", "rf-0001", ordId, merchant.MerchantId),
            (posted["ResponseCode"], posted["Status"], posted["TransType"], posted["RefundAmout"], posted["Priv1"], posted["OrderId"], posted["MerID"]));
        Assert.Equal(answer["ProcessDate"], posted["ProcessDate"]);
        Assert.True(RefundSigned(posted, netPayKey), "the result's CheckValue is the platform's");
        Assert.Single(sentDuringTheRefund);
        Assert.DoesNotContain(sentDuringTheRefund, r => LegacyPaymentHandlerBooksIt(r, netPayKey));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM refunds WHERE merchant_id = $1 AND order_id = $2 AND return_url = $3 AND netpay_trans_type = '0102' AND netpay_priv1 = 'rf-0001'",
            merchant.MerchantId, ordId, server.Url + "/refund"));
    }

    [Fact]
    public async Task ARefundWithoutReturnUrl_IsToldNowhere_AndStillReachesSettlement()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 10_00, bgRetUrl: server.Url)), ApprovedCard);
        Assert.NotNull(await server.WaitForAsync(r => r.Path == "/notify"));
        var beforeRefund = server.Received.Count;

        using var response = await consumer.PostFormAsync("/pay/Refund", merchant.NetPayRefund(ordId, 10_00, "", returnUrl: ""));
        var answer = TestMerchant.ReadNetPayAnswer(await response.Content.ReadAsByteArrayAsync());
        await NothingLeftToSendAsync(merchant, ordId);

        Assert.Equal(("0", "3"), (answer["ResponseCode"], answer["Status"]));
        Assert.Equal(beforeRefund, server.Received.Count);
        Assert.Equal("settlement", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg(topic, ',') FROM outbox WHERE merchant_id = $1 AND order_id = $2 AND payload->>'kind' = 'refund'", merchant.MerchantId, ordId));
    }

    [Fact]
    public async Task RefundRefusals_AreNetPaysCodesWithAMessage_NothingSigned_AndChangeNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var paid = TestMerchant.NewOrderId();
        var unpaid = TestMerchant.NewOrderId();
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(paid, 20_00)), ApprovedCard);
        await consumer.StartNetPayAsync(merchant.NetPayOrder(unpaid, 20_00));
        var first = await RefundAsync(consumer, merchant.NetPayRefund(paid, 5_00, "serial-1"));
        var before = await StateAsync(merchant.MerchantId);

        var noOrder = await RefundAsync(consumer, merchant.NetPayRefund(TestMerchant.NewOrderId(), 1_00, "x"));
        var notPaid = await RefundAsync(consumer, merchant.NetPayRefund(unpaid, 1_00, "x"));
        var duplicate = await RefundAsync(consumer, merchant.NetPayRefund(paid, 5_00, "serial-1", transType: "0012"));
        var over = await RefundAsync(consumer, merchant.NetPayRefund(paid, 15_01, "serial-2"));
        var splitting = await RefundAsync(consumer, merchant.NetPayRefund(paid, 1_00, "a&Status=3"));
        var elsewhere = await RefundAsync(consumer, merchant.NetPayRefund(paid, 1_00, "serial-3", returnUrl: "https://attacker.example/netpay/"));
        var notARefund = await RefundAsync(consumer, merchant.NetPayRefund(paid, 1_00, "serial-4", transType: "0001"));
        var forged = merchant.NetPayRefund(paid, 1_00, "serial-5");
        forged["Priv1"] = "serial-6";
        var badSignature = await RefundAsync(consumer, forged);

        Assert.Equal(("0", "3"), (first.Fields["ResponseCode"], first.Fields["Status"]));
        Assert.Equal((HttpStatusCode.NotFound, "402"), (noOrder.Status, noOrder.Fields["ResponseCode"]));
        Assert.Equal((HttpStatusCode.NotFound, "402"), (notPaid.Status, notPaid.Fields["ResponseCode"]));
        Assert.Equal((HttpStatusCode.Conflict, "205"), (duplicate.Status, duplicate.Fields["ResponseCode"]));
        Assert.Equal((HttpStatusCode.Conflict, "903"), (over.Status, over.Fields["ResponseCode"]));
        Assert.Equal((HttpStatusCode.BadRequest, "901"), (splitting.Status, splitting.Fields["ResponseCode"]));
        Assert.Equal((HttpStatusCode.BadRequest, "901"), (elsewhere.Status, elsewhere.Fields["ResponseCode"]));
        Assert.Contains("ReturnURL", elsewhere.Fields["Message"]);
        Assert.Equal((HttpStatusCode.BadRequest, "901"), (notARefund.Status, notARefund.Fields["ResponseCode"]));
        Assert.Equal((HttpStatusCode.Forbidden, "902"), (badSignature.Status, badSignature.Fields["ResponseCode"]));
        foreach (var refusal in new[] { noOrder, notPaid, duplicate, over, splitting, elsewhere, notARefund, badSignature })
        {
            Assert.Equal(["ResponseCode", "Message"], refusal.Fields.Keys);
        }
        Assert.Equal(before, await StateAsync(merchant.MerchantId));
    }

    private async Task<string> StateAsync(string merchantId) => await platform.ScalarAsync<string>("gatewaydb",
        """
        SELECT (SELECT count(*) FROM refunds WHERE merchant_id = $1) || '/' || (SELECT sum(refunded_minor) FROM orders WHERE merchant_id = $1)
            || '/' || (SELECT count(*) FROM outbox WHERE merchant_id = $1)
        """, merchantId);

    private static async Task<(HttpStatusCode Status, Dictionary<string, string> Fields)> RefundAsync(TestConsumer consumer, Dictionary<string, string> form)
    {
        using var response = await consumer.PostFormAsync("/pay/Refund", form);
        return (response.StatusCode, TestMerchant.ReadNetPayAnswer(await response.Content.ReadAsByteArrayAsync()));
    }

    /// <summary>What a payment handler written for NetPay's notifications checks, and all it checks: the checkvalue, and status 1001.</summary>
    private static bool LegacyPaymentHandlerBooksIt(ReceivedNotification received, RSA netPayKey)
    {
        var f = Form(received);
        string Get(string name) => f.TryGetValue(name, out var value) ? value : "";
        var checkValue = Get("checkvalue");
        return Get("status") == "1001" && checkValue.Length == 256 && checkValue.All(char.IsAsciiHexDigit)
            && netPayKey.VerifyData(Encoding.UTF8.GetBytes(Get("merid") + Get("orderno") + Get("amount") + Get("currencycode") + Get("transdate")
                + Get("transtype") + Get("status")), Convert.FromHexString(checkValue), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);
    }

    private static bool RefundSigned(IReadOnlyDictionary<string, string> f, RSA netPayKey) =>
        netPayKey.VerifyData(Encoding.UTF8.GetBytes(f["MerID"] + f["ProcessDate"] + f["TransType"] + f["OrderId"] + f["RefundAmout"] + f["Status"] + f["Priv1"]),
            Convert.FromHexString(f["CheckValue"]), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);

    private static Dictionary<string, string> Form(ReceivedNotification received) =>
        Encoding.UTF8.GetString(received.Body).Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .ToDictionary(p => WebUtility.UrlDecode(p[0]), p => WebUtility.UrlDecode(p.ElementAtOrDefault(1) ?? ""), StringComparer.Ordinal);

    private async Task<RSA> NetPayKeyAsync()
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var key = RSA.Create();
        key.ImportFromPem(await http.GetStringAsync("/v1/platform-netpay-key"));
        return key;
    }

    /// <summary>
    /// Waits until the gateway has nothing left to send for the order (every outbox row delivered,
    /// given up or superseded), so that what the merchant's server has received is all it will.
    /// </summary>
    private Task NothingLeftToSendAsync(TestMerchant merchant, string ordId) =>
        Eventually.TrueAsync(async () => await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM outbox WHERE merchant_id = $1 AND order_id = $2 AND delivered_at IS NULL AND given_up_at IS NULL AND superseded_at IS NULL",
            merchant.MerchantId, ordId) == 0, "the gateway has sent everything the refund owes");
}
