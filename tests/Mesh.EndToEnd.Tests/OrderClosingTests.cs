using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Mesh.NetPay.Api;
using Mesh.NetPay.Signing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Orders that end unpaid: a pay-by time the merchant sets (/v1 payTimeout) after which the page
/// refuses and the order is closed once, with one notification; the merchant's close of an unpaid
/// order (again: the same answer), refused for a paid one; and a close racing a payment, of which
/// exactly one wins.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class OrderClosingTests(MeshPlatformFixture platform)
{
    private static readonly string ApprovedCard = Acquirer.TestCard("622202", 1);

    private NetPay.Api.NetPayClient Client(TestMerchant merchant) => new(new NetPayClientOptions
    {
        GatewayUrl = platform.App.GetEndpoint("gateway", "http"),
        MerchantId = merchant.MerchantId,
        Key = MerchantKey.FromPem(merchant.RsaKey.ExportPkcs8PrivateKeyPem()),
    });

    [Fact]
    public async Task AShortPayTimeout_Passes_ThePageRefuses_TheOrderIsClosed_AndTheMerchantIsToldOnce()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var client = Client(merchant);
        using var consumer = new TestConsumer(platform);
        var orderId = "end-" + TestMerchant.NewOrderId();
        // Long enough to open the page first on a busy machine, short enough to wait out.
        var payBy = DateTimeOffset.UtcNow.AddSeconds(8);

        var created = await client.CreateOrderAsync(new CreateOrder(orderId, 12_00, BackUrl: server.Url, GateId: "0102", PayTimeout: payBy));
        var page = await consumer.OpenAsync(created.PayUrl!.PathAndQuery);
        var closed = await Eventually.UntilAsync(() => client.GetOrderAsync(orderId), o => o.Status == Order.Closed, "the order past its pay-by time is closed");
        using var submitted = await consumer.SubmitAsync(page, ApprovedCard, "12/30", "123456");
        using var reopened = await consumer.Http.GetAsync(created.PayUrl!.PathAndQuery);
        var told = await server.WaitForAsync(r => Json(r.Body) is var body && body.GetProperty("orderId").GetString() == orderId
            && body.GetProperty("status").GetString() == "closed");

        Assert.Equal(Order.Created, created.Status);
        Assert.Equal(payBy.ToUnixTimeSeconds(), created.PayTimeout!.Value.ToUnixTimeSeconds());
        Assert.True(closed.Version > created.Version);
        Assert.Equal(HttpStatusCode.Gone, submitted.StatusCode);
        Assert.Contains("This order is closed", await submitted.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Gone, reopened.StatusCode);
        Assert.NotNull(told);
        Assert.Equal(closed.Version.ToString(CultureInfo.InvariantCulture), Json(told.Body).GetProperty("version").GetString());
        Assert.Single(server.Received, r => Json(r.Body).GetProperty("orderId").GetString() == orderId);
        Assert.Equal(1L, await Eventually.UntilAsync(() => platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM outbox WHERE merchant_id = $1 AND order_id = $2 AND payload->>'status' = 'closed' AND delivered_at IS NOT NULL",
            merchant.MerchantId, orderId), delivered => delivered > 0, "the close's notification is delivered"));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM outbox WHERE merchant_id = $1 AND order_id = $2 AND topic = 'notification'", merchant.MerchantId, orderId));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM outbox WHERE merchant_id = $1 AND order_id = $2 AND topic = 'settlement'", merchant.MerchantId, orderId));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM payments WHERE merchant_id = $1 AND order_id = $2",
            merchant.MerchantId, orderId));
    }

    [Fact]
    public async Task TheMerchantClosesAnUnpaidOrder_ClosingAgainIsTheSameAnswer_AndTheClosedOrderCannotBePaidNorCreatedAgain()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var client = Client(merchant);
        using var consumer = new TestConsumer(platform);
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = "close-" + TestMerchant.NewOrderId();

        var created = await client.CreateOrderAsync(new CreateOrder(orderId, 7_00, GateId: "0102"));
        var page = await consumer.OpenAsync(created.PayUrl!.PathAndQuery);
        var closed = await client.CloseOrderAsync(orderId);
        var again = await client.CloseOrderAsync(orderId);
        var read = await client.GetOrderAsync(orderId);
        using var submitted = await consumer.SubmitAsync(page, ApprovedCard, "12/30", "123456");
        using var recreated = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, orderId, 7_00)));

        Assert.Equal((Order.Closed, Order.Closed, Order.Closed), (closed.Status, again.Status, read.Status));
        Assert.Equal(closed.Version, again.Version);
        Assert.Equal(created.Version + 1, closed.Version);
        Assert.Null(closed.PayUrl);
        Assert.Equal(HttpStatusCode.Gone, submitted.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, recreated.StatusCode);
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM outbox WHERE merchant_id = $1 AND order_id = $2 AND topic = 'notification' AND payload->>'status' = 'closed'",
            merchant.MerchantId, orderId));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM payments WHERE merchant_id = $1 AND order_id = $2",
            merchant.MerchantId, orderId));
    }

    [Fact]
    public async Task ClosingAPaidOrder_IsA409Problem_AndChangesNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var consumer = new TestConsumer(platform);
        var orderId = "paid-" + TestMerchant.NewOrderId();
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, orderId, 3_00)));
        var order = await created.Content.ReadFromJsonAsync<JsonElement>();
        await consumer.PayAsync(await consumer.OpenAsync(new Uri(order.GetProperty("payUrl").GetString()!).PathAndQuery), ApprovedCard);
        var before = await OrderRowAsync(merchant, orderId);

        using var refused = await http.PostAsJsonAsync($"/v1/orders/{orderId}/close",
            merchant.SignV1(new Dictionary<string, string?> { ["merId"] = merchant.MerchantId }, ("orderId", orderId)));
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("The order is paid", problem.GetProperty("title").GetString());
        Assert.Equal(409, problem.GetProperty("status").GetInt32());
        Assert.Equal(("paid", before.Version), await OrderRowAsync(merchant, orderId));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM outbox WHERE merchant_id = $1 AND order_id = $2 AND payload->>'status' = 'closed'", merchant.MerchantId, orderId));
    }

    [Fact]
    public async Task ACloseRacingAPayment_LeavesExactlyOneOutcome()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var client = Client(merchant);
        var outcomes = new List<string>();
        for (var round = 0; round < 6; round++)
        {
            using var consumer = new TestConsumer(platform);
            var orderId = $"race{round}-" + TestMerchant.NewOrderId();
            var created = await client.CreateOrderAsync(new CreateOrder(orderId, 1_00 + round, GateId: "0102"));
            var page = await consumer.OpenAsync(created.PayUrl!.PathAndQuery);

            var paying = consumer.SubmitAsync(page, ApprovedCard, "12/30", "123456");
            var closing = CloseOrRefusalAsync(client, orderId);
            using var submitted = await paying;
            var close = await closing;
            var final = await Eventually.UntilAsync(() => client.GetOrderAsync(orderId), o => o.Status is Order.Paid or Order.Closed, "the order is paid or closed");
            var payments = await platform.ScalarAsync<long>("gatewaydb",
                "SELECT count(*) FROM payments WHERE merchant_id = $1 AND order_id = $2", merchant.MerchantId, orderId);

            if (final.Status == Order.Paid)
            {
                Assert.Equal(409, close);
                Assert.Equal((1L, 1_00L + round), (payments, final.PaidMinor));
            }
            else
            {
                Assert.Equal(200, close);
                Assert.Equal((0L, 0L), (payments, final.PaidMinor));
                Assert.NotEqual(HttpStatusCode.InternalServerError, submitted.StatusCode);
            }
            outcomes.Add(final.Status);
        }
        Assert.All(outcomes, o => Assert.True(o is Order.Paid or Order.Closed));
    }

    private static async Task<int> CloseOrRefusalAsync(NetPay.Api.NetPayClient client, string orderId)
    {
        try
        {
            await client.CloseOrderAsync(orderId);
            return 200;
        }
        catch (NetPayException refused)
        {
            return refused.Status;
        }
    }

    private async Task<(string Status, int Version)> OrderRowAsync(TestMerchant merchant, string orderId) =>
        (await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE merchant_id = $1 AND order_id = $2", merchant.MerchantId, orderId),
            await platform.ScalarAsync<int>("gatewaydb", "SELECT version FROM orders WHERE merchant_id = $1 AND order_id = $2", merchant.MerchantId, orderId));


    private static JsonElement Json(byte[] body) => JsonSerializer.Deserialize<JsonElement>(body);
}
