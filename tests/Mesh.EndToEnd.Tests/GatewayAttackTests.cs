using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Mesh.NetPay.Notifications;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Merchant-facing abuse against the running platform, each refused: return addresses the merchant
/// never registered, http on the https protocol, a new page to reset the wrong-PIN count, parallel
/// password guesses, an unsigned replay of an idempotent request, a NetPay RSA-1024 key on /v1,
/// diagnostics read by anyone, and a notification whose id or version was changed on the way.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed partial class GatewayAttackTests(MeshPlatformFixture platform)
{
    private static readonly string ApprovedCard = Acquirer.TestCard("622202", 1);

    [Theory]
    [InlineData("BgRetUrl", "https://attacker.example/collect", "")]
    [InlineData("PageRetUrl", "https://shop.example/netpay/notify", "https://attacker.example/phish")]
    [InlineData("BgRetUrl", "https://shop.example.attacker.example/netpay/notify", "")]
    public async Task NetPay_AReturnAddressOutsideTheMerchantsPrefixes_Is400NamingTheField_AndStoresNoOrder(string field, string bgRetUrl, string pageRetUrl)
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, returnUrlPrefixes: ["https://shop.example/netpay/"]);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();

        // The merchant signed the order; whoever carries the form changes the unsigned addresses.
        using var refused = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(ordId, 10_00, pageRetUrl: pageRetUrl, bgRetUrl: bgRetUrl));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains(field, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM orders WHERE merchant_id = $1 AND order_id = $2",
            merchant.MerchantId, ordId));
    }

    [Fact]
    public async Task NetPay_AMerchantThatRegisteredNoPrefix_TakesNoReturnAddress_ButStillTakesOrdersWithout()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, returnUrlPrefixes: []);
        using var consumer = new TestConsumer(platform);

        using var withAddress = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(TestMerchant.NewOrderId(), 10_00));
        using var without = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(TestMerchant.NewOrderId(), 10_00, bgRetUrl: ""));

        Assert.Equal(HttpStatusCode.BadRequest, withAddress.StatusCode);
        Assert.Contains("returnUrlPrefixes", await withAddress.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, without.StatusCode);
    }

    [Fact]
    public async Task TheHttpsProtocol_RefusesHttpAddresses_AtOnboardingAndAtOrderTime_NamingTheField()
    {
        using var admin = await AdminAsync();
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var onboarding = await admin.PostAsJsonAsync("/admin/merchants", new
        {
            merchantId = "8" + RandomNumberGenerator(),
            name = "Plain Text Teas",
            publicKeyPem = key.ExportSubjectPublicKeyInfoPem(),
            notificationMode = "deferred",
            notificationProtocol = "https",
            returnUrlPrefixes = new[] { "http://shop.example/" },
            feeRatePpm = 6_000,
            feeMinimumMinor = 100,
            settlementAccount = "1202020209000012345",
        });
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256", protocol: "https");
        var orderId = "http-" + TestMerchant.NewOrderId();
        var order = OrdersApiTests.Order(merchant, orderId, 10_00);
        order["backUrl"] = "http://shop.example/notify";
        using var api = platform.App.CreateHttpClient("gateway", "http");
        using var created = await api.PostAsJsonAsync("/v1/orders", merchant.SignV1(order));
        using var netPayMerchant = await TestMerchant.OnboardAsync(platform, protocol: "https", returnUrlPrefixes: ["https://shop.example/"]);
        using var consumer = new TestConsumer(platform);
        using var netPay = await consumer.PostFormAsync("/pay/TransGet",
            netPayMerchant.NetPayOrder(TestMerchant.NewOrderId(), 10_00, bgRetUrl: "http://shop.example/netpay/notify"));

        Assert.Equal(HttpStatusCode.BadRequest, onboarding.StatusCode);
        Assert.True(Errors(await onboarding.Content.ReadFromJsonAsync<JsonElement>()).ContainsKey("returnUrlPrefixes"));
        Assert.Equal(HttpStatusCode.BadRequest, created.StatusCode);
        Assert.True(Errors(await created.Content.ReadFromJsonAsync<JsonElement>()).ContainsKey("backUrl"));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM orders WHERE order_id = $1", orderId));
        Assert.Equal(HttpStatusCode.BadRequest, netPay.StatusCode);
        Assert.Contains("BgRetUrl", await netPay.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongPin_IsCountedOnTheOrder_ANewPaymentPageDoesNotGiveMoreTries()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var order = merchant.NetPayOrder(ordId, 3_00, gateId: "0105");
        var card = Acquirer.TestCard("621700", 1);

        var first = await consumer.PayAsync(await consumer.StartNetPayAsync(order), card, pin: "111111");
        // The consumer posts the same signed form again and gets a new page session.
        var second = await consumer.PayAsync(await consumer.StartNetPayAsync(order), card, pin: "222222");
        var counted = await platform.ScalarAsync<int>("gatewaydb", "SELECT wrong_pins FROM orders WHERE merchant_id = $1 AND order_id = $2",
            merchant.MerchantId, ordId);
        // The right PIN on a third page still pays (and clears the bank's own count of this card).
        var third = await consumer.PayAsync(await consumer.StartNetPayAsync(order), card);

        Assert.Contains("2 tries left", first, StringComparison.Ordinal);
        Assert.Contains("1 try left", second, StringComparison.Ordinal);
        Assert.Equal(2, counted);
        Assert.Contains("Payment successful", third, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ParallelPasswordGuesses_AtMostTheLimitAreEvaluated_TheRestAreRefusedAsLocked()
    {
        const int Guesses = 12;
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var operatorId = "guess" + RandomNumberGenerator();
        using (var admin = await AdminAsync())
        {
            using var added = await admin.PostAsJsonAsync($"/admin/merchants/{merchant.MerchantId}/console-users",
                new { operatorId, role = "admin", password = "the right passphrase 1" });
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }
        // Every guesser holds its own sign-in form (token cookie and field), then all post at once.
        var guessers = new List<(HttpClient Http, string Csrf)>();
        for (var i = 0; i < Guesses + 1; i++)
        {
            var http = new HttpClient(new HttpClientHandler
            {
                AllowAutoRedirect = false,
                ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
            })
            { BaseAddress = platform.App.GetEndpoint("gateway", "https") };
            guessers.Add((http, CsrfPattern().Match(await http.GetStringAsync("/console/login")).Groups[1].Value));
        }
        Task<HttpResponseMessage> Guess((HttpClient Http, string Csrf) guesser, string password) =>
            guesser.Http.PostAsync("/console/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["csrf"] = guesser.Csrf,
                ["merchantId"] = merchant.MerchantId,
                ["operatorId"] = operatorId,
                ["password"] = password,
            }));

        var answers = await Task.WhenAll(guessers.Take(Guesses).Select((g, i) => Guess(g, $"wrong guess number {i}")));
        using var right = await Guess(guessers[^1], "the right passphrase 1");
        var evaluated = await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = $1 AND operator_id = $2 AND action = 'login-failed'", merchant.MerchantId, operatorId);
        var refused = await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = $1 AND operator_id = $2 AND action = 'login-refused'", merchant.MerchantId, operatorId);

        Assert.Equal(5L, evaluated); // ConsoleAccounts.FailuresBeforeLockout
        Assert.Equal(Guesses - 5 + 1L, refused); // the rest, and then even the right password
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"a guess answered {a.StatusCode}"));
        Assert.Equal(Guesses - 4, answers.Count(a => a.StatusCode == HttpStatusCode.Forbidden)); // the fifth wrong one locks, and all after it
        Assert.Equal(HttpStatusCode.Forbidden, right.StatusCode);
        foreach (var (http, _) in guessers)
        {
            http.Dispose();
        }
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task AnIdempotentReplay_IsServedOnlyToARequestWhoseSignatureVerifies()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var stranger = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var api = platform.App.CreateHttpClient("gateway", "http");
        var key = "idem-" + TestMerchant.NewOrderId();
        var order = merchant.SignV1(OrdersApiTests.Order(merchant, "idem-" + TestMerchant.NewOrderId(), 10_00));
        async Task<HttpResponseMessage> PostAsync(Dictionary<string, string?> body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/orders") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", key);
            return await api.SendAsync(request);
        }

        using var first = await PostAsync(order);
        using var unsigned = await PostAsync(new Dictionary<string, string?>(order) { ["signature"] = null });
        using var forged = await PostAsync(new Dictionary<string, string?>(order) { ["signature"] = "AAAA" + order["signature"]![4..] });
        using var strangers = await PostAsync(stranger.SignV1(new Dictionary<string, string?>(order)));
        using var replayed = await PostAsync(order);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        foreach (var refused in new[] { unsigned, forged, strangers })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.False(refused.Headers.Contains("Idempotent-Replayed"));
            Assert.DoesNotContain("payUrl", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.Created, replayed.StatusCode);
        Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task V1_ANetPayRsa1024Key_Is400NamingPublicKeyPem_AndStoresNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-1024");
        using var api = platform.App.CreateHttpClient("gateway", "http");
        var orderId = "weak-" + TestMerchant.NewOrderId();

        using var created = await api.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, orderId, 10_00)));

        Assert.Equal(HttpStatusCode.BadRequest, created.StatusCode);
        Assert.True(Errors(await created.Content.ReadFromJsonAsync<JsonElement>()).ContainsKey("publicKeyPem"));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM orders WHERE order_id = $1", orderId));
    }

    [Fact]
    public async Task Diagnostics_ShowAnyoneOnlyEachHopsOkAndLatency_TheOperatorSeesTheRest()
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var shown = await http.GetStringAsync("/v1/diagnostics");
        using var wrongKey = new HttpRequestMessage(HttpMethod.Get, "/v1/diagnostics");
        wrongKey.Headers.Add("X-Mesh-Admin-Key", "not the key");
        var shownForAGuess = await (await http.SendAsync(wrongKey)).Content.ReadAsStringAsync();
        using var admin = await AdminAsync();
        var full = await admin.GetFromJsonAsync<JsonElement>("/v1/diagnostics");

        foreach (var view in new[] { shown, shownForAGuess })
        {
            using var report = JsonDocument.Parse(view);
            Assert.Equal(["ok", "hops"], report.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.All(report.RootElement.GetProperty("hops").EnumerateArray(),
                hop => Assert.Equal(["name", "ok", "latencyMs"], hop.EnumerateObject().Select(p => p.Name)));
            Assert.DoesNotContain("check value", view, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("keys", view, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("STAN", view, StringComparison.Ordinal);
        }
        Assert.Contains("check value", full.GetProperty("hops")[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{32}$", full.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task ANetPayNotification_CarriesItsIdAndVersionUnderThePlatformsSignature_TheSdkRefusesThemChanged()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, mode: "deferred");
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 12_00, bgRetUrl: server.Url)), ApprovedCard);
        var told = await server.WaitForAsync(r => Encoding.ASCII.GetString(r.Body).Contains($"orderno={ordId}", StringComparison.Ordinal));
        Assert.NotNull(told);
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var certificate = X509Certificate2.CreateFromPem(await http.GetStringAsync("/v1/platform-certificate"));
        using var netPayKey = System.Security.Cryptography.RSA.Create();
        netPayKey.ImportFromPem(await http.GetStringAsync("/v1/platform-netpay-key"));
        var reader = new NotificationReader(certificate, netPayKey);
        byte[] Changed(string field, string value) =>
            Encoding.ASCII.GetBytes(Regex.Replace(Encoding.ASCII.GetString(told.Body), $"(^|&){field}=[^&]*", m => $"{m.Groups[1].Value}{field}={value}"));

        var read = reader.Read(new Dictionary<string, string>(), told.ContentType, told.Body);

        Assert.Equal(ordId, read.OrderId);
        Assert.Equal(told.Headers["Mesh-Notification-Id"], read.NotificationId);
        Assert.Equal(told.Headers["Mesh-Order-Version"], read.OrderVersion.ToString(CultureInfo.InvariantCulture));
        Assert.Throws<NotificationRejectedException>(() => reader.Read(new Dictionary<string, string>(), told.ContentType, Changed("NotificationId", "1")));
        Assert.Throws<NotificationRejectedException>(() => reader.Read(new Dictionary<string, string>(), told.ContentType, Changed("OrderVersion", "99")));
    }

    private async Task<HttpClient> AdminAsync()
    {
        var http = platform.App.CreateHttpClient("gateway", "http");
        http.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        return http;
    }

    private static Dictionary<string, JsonElement> Errors(JsonElement problem) =>
        problem.TryGetProperty("errors", out var errors) ? errors.EnumerateObject().ToDictionary(e => e.Name, e => e.Value) : [];

    private static string RandomNumberGenerator() =>
        System.Security.Cryptography.RandomNumberGenerator.GetInt32(0, int.MaxValue).ToString("D14", CultureInfo.InvariantCulture);

    [GeneratedRegex(""""name="csrf" value="([^"]+)"""")]
    private static partial Regex CsrfPattern();
}
