using System.Net.Http.Json;
using System.Text;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Whatever a merchant's page or program sends, a bad order is a 4xx problem detail (RFC 9457)
/// and leaves nothing behind: no order, no payment.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class GatewayBadInputTests(MeshPlatformFixture platform)
{
    public static TheoryData<string> NetPayCases() => new()
    {
        "missing ChkValue", "signature by another key", "tampered amount", "oversized BgRetUrl", "oversized Priv1", "unknown currency",
        "order number not 16 digits", "zero amount", "refund type", "field given twice", "unknown field", "not a form",
    };

    [Theory]
    [MemberData(nameof(NetPayCases))]
    public async Task NetPay_BadOrder_Is4xxProblem_AndCreatesNothing(string fault)
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var stranger = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var form = merchant.NetPayOrder(ordId, 10_00);
        var pairs = form.ToList();
        HttpContent? raw = null;
        switch (fault)
        {
            case "missing ChkValue": pairs.RemoveAll(p => p.Key == "ChkValue"); break;
            case "signature by another key": pairs = Replace(pairs, "ChkValue", stranger.NetPayOrder(ordId, 10_00)["ChkValue"]); break;
            case "tampered amount": pairs = Replace(pairs, "TransAmt", "000000000001"); break;
            case "oversized BgRetUrl": pairs = Signed(merchant, merchant.NetPayOrder(ordId, 10_00, bgRetUrl: "https://shop.example/" + new string('n', 60))); break;
            case "oversized Priv1": pairs = Signed(merchant, merchant.NetPayOrder(ordId, 10_00, priv1: new string('p', 61))); break;
            case "unknown currency": pairs = Resign(merchant, Replace(pairs, "CuryId", "840")); break;
            case "order number not 16 digits": pairs = Resign(merchant, Replace(pairs, "OrdId", ordId[..15])); break;
            case "zero amount": pairs = Resign(merchant, Replace(pairs, "TransAmt", "000000000000")); break;
            case "refund type": pairs = Resign(merchant, Replace(pairs, "TransType", "0002")); break;
            case "field given twice": pairs.Add(new("TransAmt", "000000000001")); break;
            case "unknown field": pairs.Add(new("Surprise", "1")); break;
            case "not a form": raw = new StringContent("{\"MerId\": 1", Encoding.UTF8, "application/json"); break;
        }

        using var response = raw is null ? await consumer.PostFormAsync("/pay/TransGet", pairs) : await consumer.Http.PostAsync("/pay/TransGet", raw);

        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM orders WHERE merchant_id = $1", merchant.MerchantId));
    }

    public static TheoryData<string> V1Cases() => new()
    {
        "malformed JSON", "a number where a string belongs", "unknown field", "no signature", "signature by another key", "tampered amount",
        "zero amount", "unknown currency", "order number with spaces", "oversized field", "URL not http", "replayed paid order",
    };

    [Theory]
    [MemberData(nameof(V1Cases))]
    public async Task V1_BadOrder_Is4xxProblem_AndCreatesNothing(string fault)
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var stranger = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = "bad-" + TestMerchant.NewOrderId();
        var order = OrdersApiTests.Order(merchant, orderId, 10_00);
        HttpContent content;
        var existing = 0L;
        switch (fault)
        {
            case "malformed JSON": content = new StringContent("{\"merId\": \"", Encoding.UTF8, "application/json"); break;
            case "a number where a string belongs": content = new StringContent($"{{\"merId\":\"{merchant.MerchantId}\",\"txnAmt\":1000}}", Encoding.UTF8, "application/json"); break;
            case "unknown field": order["surprise"] = "1"; content = JsonContent.Create(merchant.SignV1(order)); break;
            case "no signature": content = JsonContent.Create(order); break;
            case "signature by another key": order["signature"] = stranger.SignV1(new Dictionary<string, string?>(order))["signature"]; content = JsonContent.Create(order); break;
            case "tampered amount": merchant.SignV1(order); order["txnAmt"] = "1"; content = JsonContent.Create(order); break;
            case "zero amount": order["txnAmt"] = "0"; content = JsonContent.Create(merchant.SignV1(order)); break;
            case "unknown currency": order["currencyCode"] = "USD"; content = JsonContent.Create(merchant.SignV1(order)); break;
            case "order number with spaces": order["orderId"] = "bad order"; content = JsonContent.Create(merchant.SignV1(order)); break;
            case "oversized field": order["reqReserved"] = new string('x', 5_000); content = JsonContent.Create(merchant.SignV1(order)); break;
            case "URL not http": order["frontUrl"] = "javascript:alert(1)"; content = JsonContent.Create(merchant.SignV1(order)); break;
            default:
                using (var consumer = new TestConsumer(platform))
                {
                    using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, orderId, 10_00)));
                    var payUrl = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("payUrl").GetString()!;
                    await consumer.PayAsync(await consumer.OpenAsync(new Uri(payUrl).PathAndQuery), Acquirer.TestCard("622202", 1));
                }
                existing = 1;
                content = JsonContent.Create(merchant.SignV1(OrdersApiTests.Order(merchant, orderId, 10_00)));
                break;
        }

        using var response = await http.PostAsync("/v1/orders", content);

        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(existing, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM orders WHERE merchant_id = $1", merchant.MerchantId));
        Assert.Equal(existing, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM payments WHERE merchant_id = $1", merchant.MerchantId));
    }

    private static List<KeyValuePair<string, string>> Replace(List<KeyValuePair<string, string>> pairs, string name, string value) =>
        pairs.Select(p => p.Key == name ? new KeyValuePair<string, string>(name, value) : p).ToList();

    private static List<KeyValuePair<string, string>> Signed(TestMerchant merchant, Dictionary<string, string> form) => Resign(merchant, form.ToList());

    /// <summary>Signs the fields as they are, so that the gateway's other checks, not the signature's, must refuse them.</summary>
    private static List<KeyValuePair<string, string>> Resign(TestMerchant merchant, List<KeyValuePair<string, string>> pairs)
    {
        var f = pairs.ToDictionary(p => p.Key, p => p.Value);
        var text = f["MerId"] + f["OrdId"] + f["TransAmt"] + f["CuryId"] + f["TransDate"] + f["TransType"] + (f["Version"] == "20070129" ? f["Priv1"] : "");
        return Replace(pairs, "ChkValue", merchant.NetPaySign(text));
    }
}
