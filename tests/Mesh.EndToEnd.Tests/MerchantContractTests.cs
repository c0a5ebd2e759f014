using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Mesh.NetPay.Api;
using Mesh.NetPay.Signing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The merchant contract as tools read it: <c>/openapi/v1.json</c> has a schema for every <c>/v1</c> operation's body
/// and answer, its signature parameters, <c>Idempotency-Key</c> and its problems; it is the document committed in
/// <c>docs/openapi/v1.json</c> (from which a client is generated at build time); every problem has a stable type and
/// code, which the SDK's exception exposes.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class MerchantContractTests(MeshPlatformFixture platform)
{
    /// <summary>Set to a path, the contract drift test writes the live document there (to refresh docs/openapi/v1.json).</summary>
    public const string WriteVariable = "MESH_OPENAPI_WRITE";

    private static readonly string[] Posts =
        ["/v1/orders", "/v1/orders/{orderId}/close", "/v1/orders/{orderId}/void", "/v1/orders/{orderId}/refunds", "/v1/orders/{orderId}/capture",
         "/v1/orders/{orderId}/release"];

    private static readonly string[] Gets = ["/v1/orders", "/v1/orders/{orderId}", "/v1/orders/{orderId}/refunds/{refundId}"];

    [Fact]
    public async Task TheOpenApiDocument_HasASchemaForEveryV1OperationsBodyAnswerAndProblems_WithItsSignatureParameters()
    {
        var document = await LiveDocumentAsync();
        var paths = document["paths"]!.AsObject();
        var schemas = document["components"]!["schemas"]!.AsObject();

        foreach (var path in Posts)
        {
            var post = paths[path]!["post"]!;
            var body = post["requestBody"]!["content"]!["application/json"]!["schema"]!;
            var bodySchema = Resolve(schemas, body);
            Assert.Contains("merId", bodySchema["properties"]!.AsObject().Select(p => p.Key));
            Assert.Contains("signature", bodySchema["properties"]!.AsObject().Select(p => p.Key));
            // A generator makes a required field a non-null member only when the document does not call it nullable.
            foreach (var required in bodySchema["required"]!.AsArray().Select(r => r!.GetValue<string>()))
            {
                Assert.True(bodySchema["properties"]![required]!["nullable"] is null, $"{path}: the required field {required} is marked nullable");
            }
            Assert.NotNull(post["requestBody"]!["content"]!["application/jose"]);
            Assert.Contains(Parameters(post), p => p is ("Idempotency-Key", "header"));
            AssertAnswersAndProblems(path, post, schemas);
        }
        foreach (var path in Gets)
        {
            var get = paths[path]!["get"]!;
            Assert.Superset(new HashSet<(string, string)> { ("merId", "query"), ("timestamp", "query"), ("signature", "query") }, Parameters(get).ToHashSet());
            AssertAnswersAndProblems(path, get, schemas);
        }
        Assert.Equal(["backUrl", "captureMode", "currencyCode", "frontUrl", "gateId", "merId", "notifyMode", "orderId", "payTimeout", "reqReserved", "signature",
            "txnAmt", "txnDate"], schemas["CreateOrderRequest"]!["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["currencyCode", "merId", "orderId", "signature", "txnAmt", "txnDate"],
            schemas["CreateOrderRequest"]!["required"]!.AsArray().Select(r => r!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal("string", schemas["V1Problem"]!["properties"]!["code"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheLiveDocument_IsTheCommittedOne_SoTheGeneratedClientIsNotStale()
    {
        var live = await LiveDocumentAsync();
        if (Environment.GetEnvironmentVariable(WriteVariable) is { Length: > 0 } target)
        {
            await File.WriteAllTextAsync(target, Text(live));
        }

        var committed = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "openapi", "v1.json")))!;

        Assert.True(JsonNode.DeepEquals(committed, live),
            $"/openapi/v1.json differs from docs/openapi/v1.json: run this test with {WriteVariable}=<repository>/docs/openapi/v1.json and commit the file");
    }

    [Fact]
    public async Task EveryProblem_HasAStableTypeAndCode_ABadFieldIsNamed_AndTheSdkExposesBoth()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var client = new NetPay.Api.NetPayClient(new NetPayClientOptions
        {
            GatewayUrl = platform.App.GetEndpoint("gateway", "http"),
            MerchantId = merchant.MerchantId,
            Key = MerchantKey.FromPem(merchant.RsaKey.ExportPkcs8PrivateKeyPem()),
        });
        var orderId = "ct-" + TestMerchant.NewOrderId();
        await client.CreateOrderAsync(new CreateOrder(orderId, 5_00, GateId: "0102"));

        var numberAmount = await http.PostAsync("/v1/orders", JsonContent.Create(new { merId = merchant.MerchantId, orderId = "ct-" + TestMerchant.NewOrderId(), txnAmt = 500 }));
        var forged = await http.PostAsJsonAsync("/v1/orders", new Dictionary<string, string?>(OrdersApiTests.Order(merchant, "ct-" + TestMerchant.NewOrderId(), 5_00))
        {
            ["signature"] = Convert.ToBase64String(new byte[256]),
        });
        var missing = await Assert.ThrowsAsync<NetPayException>(() => client.GetOrderAsync("ct-none-" + TestMerchant.NewOrderId()));
        var notPaid = await Assert.ThrowsAsync<NetPayException>(() => client.RefundAsync(orderId, "rf-" + TestMerchant.NewOrderId(), 1_00));

        var numberProblem = await numberAmount.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((HttpStatusCode.BadRequest, "request.invalid", "https://mesh.example/problems/request.invalid", "a string"),
            (numberAmount.StatusCode, numberProblem.GetProperty("code").GetString(), numberProblem.GetProperty("type").GetString(),
                numberProblem.GetProperty("errors").GetProperty("txnAmt")[0].GetString()));
        var forgedProblem = await forged.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((HttpStatusCode.Unauthorized, "signature.invalid", "https://mesh.example/problems/signature.invalid"),
            (forged.StatusCode, forgedProblem.GetProperty("code").GetString(), forgedProblem.GetProperty("type").GetString()));
        Assert.Equal((404, "order.not_found", new Uri("https://mesh.example/problems/order.not_found")), (missing.Status, missing.Code, missing.Type));
        Assert.Equal((409, "order.not_paid", new Uri("https://mesh.example/problems/order.not_paid")), (notPaid.Status, notPaid.Code, notPaid.Type));
        numberAmount.Dispose();
        forged.Dispose();
    }

    [Fact]
    public async Task AClientGeneratedFromTheCommittedDocument_CreatesAnOrder_ThatIsPaid_AndRefundsIt()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var key = MerchantKey.FromPem(merchant.RsaKey.ExportPkcs8PrivateKeyPem());
        using var http = new HttpClient(new V1SigningHandler(key) { InnerHandler = new HttpClientHandler() })
        {
            BaseAddress = platform.App.GetEndpoint("gateway", "http"),
        };
        var client = new Generated.MeshV1Client(http);
        using var consumer = new TestConsumer(platform);
        var (orderId, refundId) = ("gen-" + TestMerchant.NewOrderId(), "gen-rf-" + TestMerchant.NewOrderId());
        Generated.RefundOrderRequest Refund(long amountMinor, string? id = null) => new()
        {
            MerId = merchant.MerchantId,
            RefundId = id ?? refundId,
            RefundAmt = amountMinor.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        var created = await client.CreateOrderAsync(new Generated.CreateOrderRequest
        {
            MerId = merchant.MerchantId,
            OrderId = orderId,
            TxnAmt = "12000",
            CurrencyCode = "CNY",
            TxnDate = TestMerchant.Today,
            GateId = "0102",
        }, idempotency_Key: "order-" + orderId);
        var paidPage = await consumer.PayAsync(await consumer.OpenAsync(new Uri(created.PayUrl!).PathAndQuery), Acquirer.TestCard("621700", 1));
        var paid = await client.GetOrderAsync(orderId, merchant.MerchantId, Now(), "");
        var refunded = await client.RefundOrderAsync(orderId, Refund(50_00), idempotency_Key: refundId);
        var repeated = await client.RefundOrderAsync(orderId, Refund(50_00), idempotency_Key: refundId);
        var readBack = await client.GetRefundAsync(orderId, refundId, merchant.MerchantId, Now(), "");
        var over = await Assert.ThrowsAsync<Generated.ApiException<Generated.V1Problem>>(() => client.RefundOrderAsync(orderId, Refund(120_01, "gen-over-" + TestMerchant.NewOrderId())));
        var after = await client.GetOrderAsync(orderId, merchant.MerchantId, Now(), "");

        Assert.Equal(("created", orderId), (created.Status, created.OrderId));
        Assert.Contains("Payment successful", paidPage);
        Assert.Equal(("paid", "12000"), (paid.Status, paid.PaidAmt));
        Assert.Equal(("succeeded", "5000", refundId), (refunded.Status, refunded.RefundAmt, refunded.RefundId));
        Assert.Equal((refunded.Status, refunded.CreatedAt), (repeated.Status, repeated.CreatedAt));
        Assert.Equal(("succeeded", "5000"), (readBack.Status, readBack.RefundAmt));
        Assert.Equal((409, "refund.over_remainder"), (over.StatusCode, over.Result.Code));
        Assert.Equal("5000", after.RefundedAmt);
        // Every field of each answer is in its schema: the records the document is made from are the answers' fields.
        Assert.All(new[] { created.AdditionalProperties, paid.AdditionalProperties, refunded.AdditionalProperties, readBack.AdditionalProperties },
            Assert.Empty);
        Assert.Equal(50_00L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM refunds WHERE order_id = $1 AND status = 'succeeded'", orderId));
    }

    private static string Now() => DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The gateway's document as served, without <c>servers</c> (the address it was asked at).</summary>
    private async Task<JsonNode> LiveDocumentAsync()
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var document = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;
        document.AsObject().Remove("servers");
        return document;
    }

    private static string Text(JsonNode document) => document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    private static void AssertAnswersAndProblems(string path, JsonNode operation, JsonObject schemas)
    {
        var responses = operation["responses"]!.AsObject();
        var answer = responses.First(r => r.Key.StartsWith('2') && r.Value!["content"]?["application/json"] is not null).Value!;
        Assert.True(Resolve(schemas, answer["content"]!["application/json"]!["schema"]!)["properties"]!.AsObject().ContainsKey("signature"), path);
        foreach (var status in new[] { "400", "401", "403" })
        {
            var problem = Resolve(schemas, responses[status]!["content"]!["application/problem+json"]!["schema"]!);
            Assert.True(problem["properties"]!.AsObject().ContainsKey("code"), $"{path} {status}");
        }
    }

    private static IEnumerable<(string Name, string In)> Parameters(JsonNode operation) =>
        operation["parameters"]?.AsArray().Select(p => (p!["name"]!.GetValue<string>(), p["in"]!.GetValue<string>())) ?? [];

    private static JsonNode Resolve(JsonObject schemas, JsonNode schema) =>
        schema["$ref"] is { } reference ? schemas[reference.GetValue<string>().Split('/')[^1]]! : schema;
}
