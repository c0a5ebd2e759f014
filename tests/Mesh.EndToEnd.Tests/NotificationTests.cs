using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Org.BouncyCastle.Cms;
using Org.BouncyCastle.Security;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// How merchants learn results: each delivery mode and message protocol against a merchant server
/// (Kestrel on loopback) that can fail, hang or answer 500. The platform's schedule is shortened
/// in this fixture to 1 s, 1 s, 2 s.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class NotificationTests(MeshPlatformFixture platform)
{
    private static readonly string ApprovedCard = Acquirer.TestCard("622202", 1);

    [Fact]
    public async Task Realtime_Plain_NetPay_TheMerchantIsToldBeforeTheConsumerSeesTheResult_Signed_WithIdAndVersion()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, mode: "realtime");
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();

        var result = await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 20_00, bgRetUrl: server.Url)), ApprovedCard);
        var told = Assert.Single(server.Received);
        var form = Form(told.Body);

        Assert.Contains("Payment successful", result);
        Assert.Equal(("1001", ordId, "2"), (form["status"], form["orderno"], form["OrderVersion"]));
        Assert.Equal(told.Headers["Mesh-Notification-Id"], form["NotificationId"]);
        Assert.True(await NetPaySignedAsync(form));
    }

    public static TheoryData<string, string> ModesAndProtocols()
    {
        var data = new TheoryData<string, string>();
        foreach (var mode in new[] { "realtime", "deferred", "redirect" })
        {
            foreach (var protocol in new[] { "plain", "envelope", "https" })
            {
                data.Add(mode, protocol);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ModesAndProtocols))]
    public async Task EveryModeAndProtocol_DeliversTheSignedAnswer_ThatTheMerchantOpensAndVerifies(string mode, string protocol)
    {
        await using var server = await MerchantServer.StartAsync(https: protocol == "https");
        var pin = protocol == "https" ? Convert.ToHexStringLower(SHA256.HashData(server.Certificate!.RawData)) : null;
        using var merchant = await TestMerchant.OnboardAsync(platform, mode: mode, protocol: protocol, withCertificate: protocol == "envelope", tlsPinnedSha256: pin);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var pageRetUrl = mode == "redirect" ? "https://shop.example/return" : "";

        var result = await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 4_00, pageRetUrl: pageRetUrl, bgRetUrl: server.Url)),
            ApprovedCard);
        var told = await server.WaitForAsync(_ => true);

        Assert.Contains("Payment successful", result);
        Assert.NotNull(told);
        var message = protocol == "envelope"
            ? new CmsEnvelopedData(told.Body).GetRecipientInfos().GetRecipients().Cast<RecipientInformation>().Single()
                .GetContent(DotNetUtilities.GetRsaKeyPair(merchant.RsaKey).Private)
            : told.Body;
        var form = Form(message);
        Assert.Equal(("1001", ordId), (form["status"], form["orderno"]));
        Assert.True(await NetPaySignedAsync(form));
    }

    [Fact]
    public async Task Realtime_TwoOrdersOfOneMerchantItCannotBeToldOf_AreBothReversed_NotOnlyTheFirst()
    {
        await using var server = await MerchantServer.StartAsync();
        server.AlwaysFail = true;
        using var merchant = await TestMerchant.OnboardAsync(platform, mode: "realtime");
        using var consumer = new TestConsumer(platform);
        var (first, second) = (TestMerchant.NewOrderId(), TestMerchant.NewOrderId());

        // Both payments reach the same order version; their reversals must not share a refund id.
        var firstResult = await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(first, 21_00, bgRetUrl: server.Url)), ApprovedCard);
        var secondResult = await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(second, 22_00, bgRetUrl: server.Url)), ApprovedCard);

        Assert.Contains("Payment failed", firstResult);
        Assert.Contains("Payment failed", secondResult);
        Assert.Equal("failed,failed", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg(status, ',' ORDER BY order_id) FROM orders WHERE merchant_id = $1 AND order_id IN ($2, $3)", merchant.MerchantId, first, second));
        Assert.Equal(2L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(DISTINCT refund_id) FROM refunds WHERE merchant_id = $1 AND kind = 'reversal' AND status = 'succeeded' AND order_id IN ($2, $3)",
            merchant.MerchantId, first, second));
    }

    [Fact]
    public async Task Realtime_MerchantCannotBeTold_ThePaymentIsReversed_TheOrderFails_AndTheMerchantIsEventuallyToldFailed()
    {
        await using var server = await MerchantServer.StartAsync();
        server.AlwaysFail = true;
        using var merchant = await TestMerchant.OnboardAsync(platform, mode: "realtime");
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();

        var result = await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 33_00, bgRetUrl: server.Url)), ApprovedCard);
        server.AlwaysFail = false;
        var failed = await server.WaitForAsync(r => Form(r.Body)["orderno"] == ordId);

        Assert.Contains("Payment failed", result);
        Assert.Contains("not been charged", result);
        Assert.Equal("failed", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", ordId));
        Assert.NotNull(failed);
        Assert.Equal(("1002", "3"), (Form(failed.Body)["status"], Form(failed.Body)["OrderVersion"]));
        Assert.DoesNotContain(server.Received, r => r.AnsweredStatus == 200 && Form(r.Body)["status"] == "1001");
        // The issuer's ledger: the purchase and its reversal cancel out on the card.
        var purchase = await platform.ScalarAsync<string>("gatewaydb", "SELECT stan || transmission FROM payments WHERE order_id = $1 AND status = 'approved'", ordId);
        var reversal = await platform.ScalarAsync<string>("gatewaydb",
            "SELECT stan || transmission FROM refunds WHERE order_id = $1 AND kind = 'reversal' AND status = 'succeeded'", ordId);
        const string Postings = "SELECT count(*) FROM bank_01020000.postings WHERE ltrim(acquirer_id, '0') = '8010000' AND stan || transmission IN ($1, $2)";
        Assert.Equal(2L, await platform.ScalarAsync<long>("issuerdb", Postings, purchase, reversal));
        Assert.Equal(0L, await platform.ScalarAsync<long>("issuerdb",
            "SELECT coalesce(sum(balance_delta_minor + held_delta_minor), 0)::bigint FROM bank_01020000.postings WHERE ltrim(acquirer_id, '0') = '8010000' AND stan || transmission IN ($1, $2)",
            purchase, reversal));
        // Settlement: a sale and its reversal, nothing owed to the merchant.
        Assert.Equal("purchase:paid,reversal:failed", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg((payload->>'kind') || ':' || (payload->>'status'), ',' ORDER BY outbox_id) FROM outbox WHERE order_id = $1 AND topic = 'settlement'", ordId));
        await Eventually.UntilAsync(async () => await platform.ScalarAsync<string?>("settlementdb",
                "SELECT string_agg(kind, ',' ORDER BY entry_id) FROM journal_entries WHERE merchant_id = $1", merchant.MerchantId) ?? "",
            booked => booked == "purchase,reversal", $"{merchant.MerchantId}'s sale and its reversal in the ledger");
        Assert.Equal(0L, await platform.ScalarAsync<long>("settlementdb", "SELECT balance_minor FROM accounts WHERE account_id = $1",
            $"merchant:{merchant.MerchantId}:payable:156"));
    }

    [Fact]
    public async Task Deferred_Plain_V1_JsonSignedInTheHeader_AFailedSendIsRetriedOnTheSchedule_WithTheSameId()
    {
        await using var server = await MerchantServer.StartAsync();
        server.FailNext(2);
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256", mode: "deferred");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var consumer = new TestConsumer(platform);
        var orderId = "n-" + TestMerchant.NewOrderId();
        var order = OrdersApiTests.Order(merchant, orderId, 12_00);
        order["backUrl"] = server.Url;
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(order));
        var payUrl = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payUrl").GetString()!;

        var result = await consumer.PayAsync(await consumer.OpenAsync(new Uri(payUrl).PathAndQuery), ApprovedCard);
        var told = await server.WaitForAsync(_ => true);

        Assert.Contains("Payment successful", result);
        Assert.NotNull(told);
        Assert.Equal(3, server.Received.Count);
        Assert.Single(server.Received.Select(r => r.Headers["Mesh-Notification-Id"]).Distinct());
        var body = JsonDocument.Parse(told.Body).RootElement;
        Assert.Equal(("paid", orderId, "2"), (body.GetProperty("status").GetString(), body.GetProperty("orderId").GetString(), body.GetProperty("version").GetString()));
        using var platformKey = X509Certificate2.CreateFromPem(await http.GetStringAsync("/v1/platform-certificate")).GetECDsaPublicKey()!;
        Assert.True(platformKey.VerifyData(told.Body, Convert.FromBase64String(told.Headers["Mesh-Signature"]), HashAlgorithmName.SHA256,
            DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task Redirect_TheBrowserCarriesTheAnswer_AndTheServerIsToldOnTheFirstSlot()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, mode: "redirect");
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();

        var result = await consumer.PayAsync(await consumer.StartNetPayAsync(
            merchant.NetPayOrder(ordId, 5_00, pageRetUrl: "https://shop.example/return", bgRetUrl: server.Url)), ApprovedCard);
        var immediately = server.Received.Count;
        var later = await server.WaitForAsync(r => Form(r.Body)["orderno"] == ordId);

        Assert.Equal("1001", TestConsumer.ReturnFields(result)["status"]);
        Assert.Equal(0, immediately);
        Assert.NotNull(later);
    }

    [Fact]
    public async Task Envelope_WithACertificate_IsCmsEnvelopedData_ThatBouncyCastleOpens_ToTheSignedNetPayAnswer()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-1024", mode: "deferred", protocol: "envelope", withCertificate: true);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();

        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 6_00, bgRetUrl: server.Url)), ApprovedCard);
        var told = await server.WaitForAsync(_ => true);

        Assert.NotNull(told);
        Assert.StartsWith("application/pkcs7-mime", told.ContentType);
        var envelope = new CmsEnvelopedData(told.Body);
        var recipient = envelope.GetRecipientInfos().GetRecipients().Cast<RecipientInformation>().Single();
        var opened = recipient.GetContent(DotNetUtilities.GetRsaKeyPair(merchant.RsaKey).Private);
        var form = Form(opened);
        Assert.Equal(("1001", ordId), (form["status"], form["orderno"]));
        Assert.True(await NetPaySignedAsync(form));
        Assert.DoesNotContain(ordId, Encoding.ASCII.GetString(told.Body));
    }

    [Fact]
    public async Task Envelope_WithoutACertificate_IsAStandardJwe_NamingTheMerchantsKey_ThatPlainRfc7516CodeOpens()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-1024", mode: "deferred", protocol: "envelope");
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();

        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 6_00, bgRetUrl: server.Url)), ApprovedCard);
        var told = await server.WaitForAsync(_ => true);

        Assert.NotNull(told);
        Assert.Equal("application/jose", told.ContentType);
        var (header, opened) = Mesh.Testing.PlainJwe.Open(Encoding.ASCII.GetString(told.Body), merchant.RsaKey);
        using var headerJson = JsonDocument.Parse(header);
        Assert.Equal(("RSA-OAEP-256", "A256GCM", Convert.ToHexStringLower(SHA256.HashData(merchant.RsaKey.ExportSubjectPublicKeyInfo()))[..16]),
            (headerJson.RootElement.GetProperty("alg").GetString(), headerJson.RootElement.GetProperty("enc").GetString(),
                headerJson.RootElement.GetProperty("kid").GetString()));
        var form = Form(opened);
        Assert.Equal(("1001", ordId), (form["status"], form["orderno"]));
        Assert.True(await NetPaySignedAsync(form));
        Assert.DoesNotContain(ordId, Encoding.ASCII.GetString(told.Body));
    }

    [Fact]
    public async Task Https_ASelfSignedMerchantCertificate_IsRefused_UnlessPinned()
    {
        await using var server = await MerchantServer.StartAsync(https: true);
        var pin = Convert.ToHexStringLower(SHA256.HashData(server.Certificate!.RawData));
        using var pinned = await TestMerchant.OnboardAsync(platform, mode: "deferred", protocol: "https", tlsPinnedSha256: pin);
        using var unpinned = await TestMerchant.OnboardAsync(platform, mode: "deferred", protocol: "https");
        using var consumer = new TestConsumer(platform);
        var pinnedOrder = TestMerchant.NewOrderId();
        var unpinnedOrder = TestMerchant.NewOrderId();

        await consumer.PayAsync(await consumer.StartNetPayAsync(pinned.NetPayOrder(pinnedOrder, 7_00, bgRetUrl: server.Url)), ApprovedCard);
        await consumer.PayAsync(await consumer.StartNetPayAsync(unpinned.NetPayOrder(unpinnedOrder, 7_00, bgRetUrl: server.Url)), ApprovedCard);
        var unpinnedAttempts = await HistoryAsync(unpinned.MerchantId, unpinnedOrder);

        Assert.NotNull(await server.WaitForAsync(r => Form(r.Body)["orderno"] == pinnedOrder));
        Assert.DoesNotContain(server.Received, r => Form(r.Body)["orderno"] == unpinnedOrder);
        Assert.Contains("SSL", unpinnedAttempts[0].GetProperty("history")[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task AMerchantThatHangs_IsGivenUpAfterTheSchedule_EveryAttemptRecorded_AndCanBeSentAgainByAnOperator()
    {
        await using var server = await MerchantServer.StartAsync();
        server.Hang = true;
        using var merchant = await TestMerchant.OnboardAsync(platform, mode: "deferred");
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();

        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 8_00, bgRetUrl: server.Url)), ApprovedCard);
        var notification = await Eventually.UntilAsync(async () => (await HistoryAsync(merchant.MerchantId, ordId))[0],
            n => n.TryGetProperty("givenUpAt", out var givenUp) && givenUp.ValueKind == JsonValueKind.String,
            $"the notification of order {ordId} given up (givenUpAt set) while the merchant hangs", TimeSpan.FromSeconds(60));
        var history = notification.GetProperty("history").EnumerateArray().ToList();
        server.Hang = false;
        using var admin = await AdminAsync();
        using var resend = await admin.PostAsync($"/admin/notifications/{notification.GetProperty("notificationId").GetInt64()}/resend", null);
        var delivered = await server.WaitForAsync(r => Form(r.Body)["orderno"] == ordId);

        Assert.Equal(4, history.Count);
        Assert.All(history, attempt => Assert.Contains("no answer within 1500 ms", attempt.GetProperty("error").GetString()));
        var gaps = history.Zip(history.Skip(1), (a, b) => (b.GetProperty("attemptedAt").GetDateTimeOffset() - a.GetProperty("attemptedAt").GetDateTimeOffset()).TotalSeconds).ToList();
        Assert.All(gaps.Zip([1.0, 1.0, 2.0]), g => Assert.InRange(g.First, g.Second + 1.4, g.Second + 3.5)); // the schedule's gap after a 1.5 s timeout
        Assert.Equal(System.Net.HttpStatusCode.Accepted, resend.StatusCode);
        Assert.NotNull(delivered);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.20.30.40/notify")]
    [InlineData("http://192.168.1.10/notify")]
    public async Task PrivateAndMetadataAddresses_AreNeverNotified(string bgRetUrl)
    {
        // The merchant registered the address itself: what stops the notification is the address policy, after DNS.
        using var merchant = await TestMerchant.OnboardAsync(platform, mode: "deferred", returnUrlPrefixes: [bgRetUrl]);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();

        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 9_00, bgRetUrl: bgRetUrl)), ApprovedCard);
        var attempts = (await HistoryAsync(merchant.MerchantId, ordId))[0].GetProperty("history");

        Assert.Contains("may not reach", attempts[0].GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, attempts[0].GetProperty("statusCode").ValueKind);
    }

    private async Task<List<JsonElement>> HistoryAsync(string merchantId, string orderId)
    {
        using var admin = await AdminAsync();
        return (await admin.GetFromJsonAsync<List<JsonElement>>($"/admin/merchants/{merchantId}/orders/{orderId}/notifications"))!;
    }

    private async Task<HttpClient> AdminAsync()
    {
        var http = platform.App.CreateHttpClient("gateway", "http");
        http.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        return http;
    }

    private static Dictionary<string, string> Form(byte[] body) =>
        Encoding.ASCII.GetString(body).Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));

    private async Task<bool> NetPaySignedAsync(Dictionary<string, string> answer)
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var key = RSA.Create();
        key.ImportFromPem(await http.GetStringAsync("/v1/platform-netpay-key"));
        var text = answer["merid"] + answer["orderno"] + answer["amount"] + answer["currencycode"] + answer["transdate"] + answer["transtype"] + answer["status"];
        return key.VerifyData(Encoding.UTF8.GetBytes(text), Convert.FromHexString(answer["checkvalue"]), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);
    }
}
