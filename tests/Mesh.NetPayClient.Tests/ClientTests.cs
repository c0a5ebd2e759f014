using System.Net;
using Mesh.NetPay.Api;
using Mesh.NetPay.Signing;

namespace Mesh.NetPayClient.Tests;

/// <summary>The client's promises: an unknown outcome is repeated under the same Idempotency-Key, a refusal is not, and no answer is believed unless the platform signed it.</summary>
public sealed class ClientTests : IDisposable
{
    private readonly TestPlatform _platform = new();
    private readonly MerchantKey _key = MerchantKey.CreateRsa(2048);

    private NetPay.Api.NetPayClient Client(ScriptedHandler handler) => new(new NetPayClientOptions
    {
        GatewayUrl = new Uri("http://gateway.test"),
        MerchantId = "808080000000001",
        Key = _key,
        PlatformCertificatePem = _platform.CertificatePem,
        RetryDelayFirstMs = 1,
        RetryDelayMaxMs = 2,
    }, new HttpClient(handler));

    [Fact]
    public async Task ACreateWhoseFirstAttemptsFail_IsRepeatedUnderTheSameKey_AndTheSignedOrderComesBack()
    {
        var handler = new ScriptedHandler((_, attempt) => attempt switch
        {
            1 => throw new HttpRequestException("connection reset"),
            2 => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
            _ => TestPlatform.Json(HttpStatusCode.Created, _platform.Signed(TestPlatform.OrderFields("o-1", "created"))),
        });
        using var client = Client(handler);

        var order = await client.CreateOrderAsync(new CreateOrder("o-1", 128_00));

        Assert.Equal(("o-1", "created", 128_00L), (order.OrderId, order.Status, order.AmountMinor));
        Assert.Equal(3, handler.Sent.Count);
        Assert.All(handler.Sent, s => Assert.Equal("order-o-1", s.IdempotencyKey));
        Assert.Single(handler.Sent.Select(s => s.Body).Distinct());
    }

    [Fact]
    public async Task ARefusal_IsAProblemWithItsFields_AndIsNotRepeated()
    {
        var handler = new ScriptedHandler((_, _) => TestPlatform.Json(HttpStatusCode.BadRequest,
            new
            {
                type = "https://mesh.example/problems/request.invalid",
                title = "The order has errors",
                status = 400,
                code = "request.invalid",
                errors = new Dictionary<string, string[]> { ["txnAmt"] = ["minor units, 1 to 12 digits"] },
            },
            "application/problem+json"));
        using var client = Client(handler);

        var refused = await Assert.ThrowsAsync<NetPayException>(() => client.CreateOrderAsync(new CreateOrder("o-2", 1)));

        Assert.Equal((400, "request.invalid"), (refused.Status, refused.Code));
        Assert.Equal(new Uri("https://mesh.example/problems/request.invalid"), refused.Type);
        Assert.Equal(["minor units, 1 to 12 digits"], refused.Errors["txnAmt"]);
        Assert.Single(handler.Sent);
    }

    [Fact]
    public async Task AnAnswerNotSignedByThePlatform_OrChangedAfterSigning_IsNotBelieved()
    {
        var forged = _platform.Signed(TestPlatform.OrderFields("o-3", "failed"));
        forged["status"] = "paid";
        var handler = new ScriptedHandler((_, _) => TestPlatform.Json(HttpStatusCode.OK, forged));
        using var client = Client(handler);

        var untrusted = await Assert.ThrowsAsync<NetPayException>(() => client.GetOrderAsync("o-3"));

        Assert.Equal(0, untrusted.Status);
        Assert.Contains("not signed by the platform", untrusted.Message);
    }

    [Fact]
    public async Task ARefund_CarriesItsRefundIdAsTheKey_AndSignsTheOrderIdFromThePath()
    {
        var handler = new ScriptedHandler((_, attempt) => attempt == 1
            ? new HttpResponseMessage(HttpStatusCode.GatewayTimeout)
            : TestPlatform.Json(HttpStatusCode.OK, _platform.Signed(new Dictionary<string, string?>
            {
                ["merId"] = "808080000000001",
                ["orderId"] = "o-4",
                ["refundId"] = "r-1",
                ["refundAmt"] = "3000",
                ["currencyCode"] = "CNY",
                ["status"] = "succeeded",
                ["respCode"] = "00",
                ["createdAt"] = "20261126090000",
            })));
        using var client = Client(handler);

        var refund = await client.RefundAsync("o-4", "r-1", 30_00);
        var body = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string?>>(handler.Sent[0].Body)!;

        Assert.Equal(("r-1", 30_00L, "succeeded"), (refund.RefundId, refund.AmountMinor, refund.Status));
        Assert.Equal(2, handler.Sent.Count);
        Assert.All(handler.Sent, s => Assert.Equal(("/v1/orders/o-4/refunds", "refund-r-1"), (s.Path, s.IdempotencyKey)));
        Assert.Equal(V1Signature.Sign(new Dictionary<string, string?>(body) { ["orderId"] = "o-4" }, _key), body["signature"]);
    }

    [Fact]
    public async Task ARepeatTheGatewaySaysIsStillRunning_IsAskedAgain_UntilTheFirstAttemptsAnswerComesBack()
    {
        var handler = new ScriptedHandler((_, attempt) => attempt switch
        {
            1 => new HttpResponseMessage(HttpStatusCode.GatewayTimeout),
            2 => TestPlatform.Json(HttpStatusCode.Conflict, new
            {
                type = "https://mesh.example/problems/idempotency_key.in_progress",
                title = "Idempotent request in progress",
                status = 409,
                code = "idempotency_key.in_progress",
                detail = "A request with Idempotency-Key order-o-6 is still running; try again shortly",
            }, "application/problem+json"),
            _ => TestPlatform.Json(HttpStatusCode.Created, _platform.Signed(TestPlatform.OrderFields("o-6", "created"))),
        });
        using var client = Client(handler);

        var order = await client.CreateOrderAsync(new CreateOrder("o-6", 128_00));

        Assert.Equal("o-6", order.OrderId);
        Assert.Equal(3, handler.Sent.Count);
    }

    [Fact]
    public async Task AReadThatNeverGetsAnAnswer_GivesUpAfterTheRetriesItIsAllowed()
    {
        var handler = new ScriptedHandler((_, _) => new HttpResponseMessage(HttpStatusCode.BadGateway));
        using var client = Client(handler);

        var error = await Assert.ThrowsAsync<NetPayException>(() => client.GetOrderAsync("o-5"));

        Assert.Equal(502, error.Status);
        Assert.Equal(5, handler.Sent.Count);
    }

    public void Dispose()
    {
        _platform.Dispose();
        _key.Dispose();
    }
}
