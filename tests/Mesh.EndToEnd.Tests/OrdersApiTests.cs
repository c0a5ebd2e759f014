using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>The merchant's JSON API: signed orders, queries, paging, refunds and Idempotency-Key, every answer signed by the platform.</summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class OrdersApiTests(MeshPlatformFixture platform)
{
    [Theory]
    [InlineData("ecdsa-p256")]
    [InlineData("rsa-2048")]
    public async Task CreateAnOrder_PayItAtPayUrl_AndGetIt_Paid_EveryAnswerSignedByThePlatform(string keyKind)
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, keyKind);
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var consumer = new TestConsumer(platform);
        var orderId = "v1-" + TestMerchant.NewOrderId();
        var card = Acquirer.TestCard("622202", 1);

        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(Order(merchant, orderId, 25_00)));
        var order = await created.Content.ReadFromJsonAsync<JsonElement>();
        var result = await consumer.PayAsync(await consumer.OpenAsync(new Uri(order.GetProperty("payUrl").GetString()!).PathAndQuery), card);
        var paid = await http.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}?{merchant.Query([], ("orderId", orderId))}");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("created", order.GetProperty("status").GetString());
        Assert.True(TestMerchant.PlatformSigned(order, await PlatformKeyAsync(http)));
        Assert.Contains("Payment successful", result);
        Assert.Equal("paid", paid.GetProperty("status").GetString());
        Assert.Equal("2500", paid.GetProperty("paidAmt").GetString());
        Assert.Equal("00", paid.GetProperty("respCode").GetString());
        // The masking rule (docs/operations.md): the first 6 and the last 4 digits shown, every digit between them a '*', the full number nowhere.
        Assert.Equal(card[..6] + new string('*', card.Length - 10) + card[^4..], paid.GetProperty("maskedPan").GetString());
        Assert.DoesNotContain(card, paid.GetRawText(), StringComparison.Ordinal);
        Assert.True(int.Parse(paid.GetProperty("version").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 1);
        Assert.True(TestMerchant.PlatformSigned(paid, await PlatformKeyAsync(http)));
    }

    [Fact]
    public async Task IdempotencyKey_SameRequestReplaysTheFirstAnswer_OtherParametersAre422()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var key = Guid.NewGuid().ToString();
        var orderId = "idem-" + TestMerchant.NewOrderId();

        using var first = await PostAsync(http, "/v1/orders", merchant.SignV1(Order(merchant, orderId, 9_99)), key);
        using var again = await PostAsync(http, "/v1/orders", merchant.SignV1(Order(merchant, orderId, 9_99)), key);
        using var other = await PostAsync(http, "/v1/orders", merchant.SignV1(Order(merchant, orderId, 10_99)), key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal(999L, await platform.ScalarAsync<long>("gatewaydb", "SELECT amount_minor FROM orders WHERE order_id = $1", orderId));
    }

    [Fact]
    public async Task IdempotencyKey_ThatIsTheOrderId_IsAnsweredByTheOrder_AndKeepsNoRowOfItsOwn()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = "own-" + TestMerchant.NewOrderId();
        var key = "order-" + orderId; // as the SDK sends it

        using var first = await PostAsync(http, "/v1/orders", merchant.SignV1(Order(merchant, orderId, 9_99)), key);
        using var again = await PostAsync(http, "/v1/orders", merchant.SignV1(Order(merchant, orderId, 9_99)), key);
        using var other = await PostAsync(http, "/v1/orders", merchant.SignV1(Order(merchant, orderId, 10_99)), key);
        var (firstOrder, againOrder) = (JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement,
            JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        foreach (var field in new[] { "orderId", "status", "txnAmt", "version", "payUrl" })
        {
            Assert.Equal(firstOrder.GetProperty(field).GetString(), againOrder.GetProperty(field).GetString());
        }
        Assert.True(TestMerchant.PlatformSigned(againOrder, await PlatformKeyAsync(http)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal(999L, await platform.ScalarAsync<long>("gatewaydb", "SELECT amount_minor FROM orders WHERE order_id = $1", orderId));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM idempotency_keys WHERE merchant_id = $1",
            merchant.MerchantId));
    }

    [Fact]
    public async Task IdempotencyKey_KeptPast24Hours_IsTakenAsNew_ForAnotherOrder()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var key = Guid.NewGuid().ToString();
        var firstOrder = "idem-old-" + TestMerchant.NewOrderId();
        var secondOrder = "idem-new-" + TestMerchant.NewOrderId();

        using var first = await PostAsync(http, "/v1/orders", merchant.SignV1(Order(merchant, firstOrder, 5_00)), key);
        await platform.ScalarAsync<long>("gatewaydb",
            "WITH aged AS (UPDATE idempotency_keys SET created_at = created_at - interval '25 hours' WHERE merchant_id = $1 AND idempotency_key = $2 RETURNING 1) SELECT count(*) FROM aged",
            merchant.MerchantId, key);
        using var second = await PostAsync(http, "/v1/orders", merchant.SignV1(Order(merchant, secondOrder, 6_00)), key);
        using var replayed = await PostAsync(http, "/v1/orders", merchant.SignV1(Order(merchant, secondOrder, 6_00)), key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(600L, await platform.ScalarAsync<long>("gatewaydb", "SELECT amount_minor FROM orders WHERE merchant_id = $1 AND order_id = $2",
            merchant.MerchantId, secondOrder));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM idempotency_keys WHERE merchant_id = $1 AND idempotency_key = $2",
            merchant.MerchantId, key));
    }

    [Fact]
    public async Task ListOrders_ByTimeRange_InPages_ThatTogetherHoldEveryOrderOnce()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var from = DateTime.UtcNow.AddMinutes(-1).ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add($"list-{i}-{TestMerchant.NewOrderId()}");
            using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(Order(merchant, ids[^1], 100 + i)));
            created.EnsureSuccessStatusCode();
        }
        var to = DateTime.UtcNow.AddMinutes(1).ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var parameters = new List<(string, string)> { ("from", from), ("to", to), ("limit", "2") };
            if (cursor is not null)
            {
                parameters.Add(("cursor", cursor));
            }
            var page = await http.GetFromJsonAsync<JsonElement>($"/v1/orders?{merchant.Query(parameters)}");
            Assert.True(TestMerchant.PlatformSigned(page, await PlatformKeyAsync(http)));
            var orders = page.GetProperty("orders").EnumerateArray().ToList();
            Assert.Equal(page.GetProperty("ordersDigest").GetString(), System.Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
                string.Join('\n', orders.Select(o => TestMerchant.Canonical(o.EnumerateObject().Select(p => new KeyValuePair<string, string?>(p.Name, p.Value.GetString())))))))));
            seen.AddRange(orders.Select(o => o.GetProperty("orderId").GetString()!));
            cursor = page.TryGetProperty("nextCursor", out var next) ? next.GetString() : null;
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(ids, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task TwoPartialRefundsInParallel_CannotExceedThePaidAmount_AndRefundsAddUpToItAtMost()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = await PaidOrderAsync(merchant, http, 100_00);

        Task<HttpResponseMessage> Refund(string refundId, long amount) =>
            http.PostAsJsonAsync($"/v1/orders/{orderId}/refunds",
                merchant.SignV1(new() { ["merId"] = merchant.MerchantId, ["refundId"] = refundId, ["refundAmt"] = amount.ToString(System.Globalization.CultureInfo.InvariantCulture) }, ("orderId", orderId)));
        HttpResponseMessage[] racing;
        using (var guard = new CancellationTokenSource(TimeSpan.FromSeconds(25)))
        {
            var both = Task.WhenAll(Refund("r1", 60_00), Refund("r2", 60_00));
            if (await Task.WhenAny(both, Task.Delay(Timeout.Infinite, guard.Token).ContinueWith(_ => { }, TaskScheduler.Default)) != both)
            {
                // Seen twice and not understood yet: show what the services were doing rather than wait out the client's timeout.
                throw new Xunit.Sdk.XunitException("The two refunds did not answer within 25 s; the services' last lines:\n"
                    + string.Join("\n", platform.Logs.Where(l => l.Resource is "gateway" or "switch" or "hsm").TakeLast(80).Select(l => $"{l.Resource}: {l.Line}")));
            }
            racing = await both;
        }
        using var rest = await Refund("r3", 40_00);
        using var over = await Refund("r4", 1);
        using var repeat = await Refund("r3", 40_00);
        var order = await http.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}?{merchant.Query([], ("orderId", orderId))}");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], racing.Select(r => r.StatusCode).Order());
        var refunded = await racing.Single(r => r.IsSuccessStatusCode).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("succeeded", refunded.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, over.StatusCode);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal("10000", order.GetProperty("refundedAmt").GetString());
        Assert.Equal(100_00L, await platform.ScalarAsync<long>("gatewaydb", "SELECT sum(amount_minor)::bigint FROM refunds WHERE order_id = $1 AND status = 'succeeded'", orderId));
        foreach (var response in racing)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task ARequestSealedAsAStandardJwe_IsOpenedInTheHsm_ATamperedCiphertextOrHeaderOrAnotherKidIs400_AndCreatesNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var envelopeCertificate = X509Certificate2.CreateFromPem(await http.GetStringAsync("/v1/platform-envelope-certificate"));
        using var issuingCertificate = X509Certificate2.CreateFromPem(await http.GetStringAsync(Mesh.NetPay.Api.PlatformKeys.IssuingCertificatePath));
        using var recipient = envelopeCertificate.GetRSAPublicKey()!;
        var header = $$"""{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"{{Mesh.NetPay.Signing.V1Signature.CertIdOf(envelopeCertificate)}}"}""";
        string Sealed(string orderId, string protectedHeader) =>
            PlainJwe.Seal(JsonSerializer.SerializeToUtf8Bytes(merchant.SignV1(Order(merchant, orderId, 3_00))), recipient, protectedHeader);
        var sealedId = "env-" + TestMerchant.NewOrderId();
        var refusedIds = Enumerable.Range(0, 4).Select(_ => "env-" + TestMerchant.NewOrderId()).ToArray();
        var ciphertextTouched = Sealed(refusedIds[0], header).Split('.');
        ciphertextTouched[3] = (ciphertextTouched[3][0] == 'A' ? "B" : "A") + ciphertextTouched[3][1..];

        using var created = await http.PostAsync("/v1/orders", Jose(Sealed(sealedId, header)));
        HttpResponseMessage[] refused =
        [
            await http.PostAsync("/v1/orders", Jose(string.Join('.', ciphertextTouched))),
            // The protected header is the additional data: the same token with another (even harmless) header does not open.
            await http.PostAsync("/v1/orders", Jose(PlainJwe.WithHeader(Sealed(refusedIds[1], header), header.Replace("{", "{\"cty\":\"json\",", StringComparison.Ordinal)))),
            await http.PostAsync("/v1/orders", Jose(Sealed(refusedIds[2], header.Replace("\"kid\":\"", "\"kid\":\"0", StringComparison.Ordinal)))),
            await http.PostAsync("/v1/orders", Jose(Sealed(refusedIds[3], header.Replace("A256GCM", "A128GCM", StringComparison.Ordinal)))),
        ];

        Assert.Equal(issuingCertificate.Subject, envelopeCertificate.Issuer);
        Assert.True(Mesh.NetPay.Api.PlatformKeys.IsIssuedBy(envelopeCertificate, issuingCertificate));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("envelope.unopened", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
            response.Dispose();
        }
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM orders WHERE order_id = ANY($1)", (object)refusedIds));
    }

    private static StringContent Jose(string compact) => new(compact, System.Text.Encoding.ASCII, "application/jose");

    private async Task<string> PaidOrderAsync(TestMerchant merchant, HttpClient http, long amountMinor)
    {
        using var consumer = new TestConsumer(platform);
        var orderId = "paid-" + TestMerchant.NewOrderId();
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(Order(merchant, orderId, amountMinor)));
        var order = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("Payment successful", await consumer.PayAsync(await consumer.OpenAsync(new Uri(order.GetProperty("payUrl").GetString()!).PathAndQuery),
            Acquirer.TestCard("621700", 1)));
        return orderId;
    }

    public static Dictionary<string, string?> Order(TestMerchant merchant, string orderId, long amountMinor) => new()
    {
        ["merId"] = merchant.MerchantId,
        ["orderId"] = orderId,
        ["txnAmt"] = amountMinor.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["currencyCode"] = "CNY",
        ["txnDate"] = TestMerchant.Today,
        ["gateId"] = "0102",
        ["backUrl"] = "https://shop.example/notify",
    };

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string path, object body, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await http.SendAsync(request);
    }

    private static async Task<ECDsa> PlatformKeyAsync(HttpClient http) =>
        X509Certificate2.CreateFromPem(await http.GetStringAsync("/v1/platform-certificate")).GetECDsaPublicKey()!;
}
