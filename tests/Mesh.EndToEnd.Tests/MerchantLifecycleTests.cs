using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Mesh.Contracts.Settlement;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Merchants come and go: a key rotates with an overlap in which the old and the new key both
/// verify; a key NetPay cannot use is refused with what breaks; an operator suspends a merchant
/// (new orders and payments refused with <c>merchant.suspended</c>, refunds, queries and
/// notifications go on), reactivates it, or offboards it until its last batch is paid and it
/// closes; and no merchant moves itself or another.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed partial class MerchantLifecycleTests(MeshPlatformFixture platform)
{
    private const string Password = "lifecycle passphrase long enough";
    private static readonly string Card = Acquirer.TestCard("622202", 1);

    [Fact]
    public async Task ARotatedKey_VerifiesAlongsideTheOldDuringTheOverlap_AndTheOldIsRefusedOnceTheOverlapEnds()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var rotated = merchant.SigningWith(RSA.Create(1024));
        var admin = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "keys", "admin", Password);
        using var consumer = new TestConsumer(platform);
        var paid = TestMerchant.NewOrderId();
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(paid, 12_00)), Card);

        var (uploaded, uploadMessage) = await UploadKeyAsync(admin, rotated.RsaKey.ExportSubjectPublicKeyInfoPem(), "7");
        var oldDuring = await TransGetAsync(consumer, merchant);
        var newDuring = await TransGetAsync(consumer, rotated);
        var oldQueryDuring = await QueryCodeAsync(consumer, merchant, paid);
        var newQueryDuring = await QueryCodeAsync(consumer, rotated, paid);
        var settings = await GetAsync(admin, "/console/settings");
        var overlapDays = await platform.ScalarAsync<bool>("gatewaydb",
            "SELECT previous_key_expires_at BETWEEN now() + interval '6 days 23 hours' AND now() + interval '7 days' FROM merchants WHERE merchant_id = $1",
            merchant.MerchantId);
        // The overlap ends: its end moved to the past stands for seven days gone by. The gateway compares it with its clock at each
        // verification; its cache of the merchant's row lasts seconds, so the old key is refused within them.
        await platform.ScalarAsync<string>("gatewaydb",
            "UPDATE merchants SET previous_key_expires_at = now() - interval '1 second' WHERE merchant_id = $1 RETURNING merchant_id", merchant.MerchantId);
        var oldAfter = await Eventually.UntilAsync(() => TransGetAsync(consumer, merchant), s => s == HttpStatusCode.Forbidden, "the old key is refused after its overlap");
        var oldQueryAfter = await QueryCodeAsync(consumer, merchant, paid);
        var newAfter = await TransGetAsync(consumer, rotated);

        Assert.Equal(HttpStatusCode.OK, uploaded);
        Assert.StartsWith("Your new key is in use; your previous key also verifies until ", uploadMessage);
        Assert.True(overlapDays, "the old key verifies for the 7 days chosen");
        Assert.Equal((HttpStatusCode.Redirect, HttpStatusCode.Redirect), (oldDuring, newDuring));
        Assert.Equal(("0", "0"), (oldQueryDuring, newQueryDuring));
        Assert.Contains("id=\"previous-key\"", settings);
        Assert.Equal(HttpStatusCode.Forbidden, oldAfter);
        Assert.NotEqual("0", oldQueryAfter);
        Assert.Equal(HttpStatusCode.Redirect, newAfter);
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = $1 AND operator_id = 'keys' AND action = 'key-rotated'", merchant.MerchantId));
    }

    [Fact]
    public async Task ANetPayMerchant_IsToldWhatBreaks_WhenItsNewKeyCannotSignNetPay_AndAWeakKeyOrLongOverlapIsRefused()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var admin = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "keys", "admin", Password);
        using var consumer = new TestConsumer(platform);
        using var rsa2048 = RSA.Create(2048);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var weak = RSA.Create(512);
        using var next = RSA.Create(1024);

        var (longerStatus, longer) = await UploadKeyAsync(admin, rsa2048.ExportSubjectPublicKeyInfoPem(), "7");
        var (notRsaStatus, notRsa) = await UploadKeyAsync(admin, ecdsa.ExportSubjectPublicKeyInfoPem(), "7");
        var (weakStatus, weakRefusal) = await UploadKeyAsync(admin, weak.ExportSubjectPublicKeyInfoPem(), "7");
        var (overlapStatus, overlap) = await UploadKeyAsync(admin, next.ExportSubjectPublicKeyInfoPem(), "31");
        var bitsAfterRefusals = await platform.ScalarAsync<int>("gatewaydb", "SELECT key_bits FROM merchants WHERE merchant_id = $1", merchant.MerchantId);
        var stillSigns = await TransGetAsync(consumer, merchant);
        var (confirmedStatus, _) = await UploadKeyAsync(admin, rsa2048.ExportSubjectPublicKeyInfoPem(), "0", confirmProtocolEnds: true);
        var oldRefusedAtOnce = await Eventually.UntilAsync(() => TransGetAsync(consumer, merchant), s => s == HttpStatusCode.Forbidden, "the old key is refused at once");

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest),
            (longerStatus, notRsaStatus, weakStatus, overlapStatus));
        Assert.StartsWith("The key was not changed: NetPay forms need an RSA-1024 key (ChkValue is RSA SHA-1, 256 hex digits): with an RSA-2048 key, "
            + "every purchase form (/pay/TransGet), refund (/pay/Refund) and order query (/pay/Query) you sign is refused", longer);
        Assert.Contains("with an ECDSA P-256 key, every purchase form (/pay/TransGet)", notRsa);
        Assert.Equal("an RSA key of 1024 to 4096 bits", weakRefusal);
        Assert.Equal("Overlap: the overlap is 0 to 30 days.", overlap);
        Assert.Equal(1024, bitsAfterRefusals);
        Assert.Equal(HttpStatusCode.Redirect, stillSigns);
        Assert.Equal(HttpStatusCode.OK, confirmedStatus);
        Assert.Equal(HttpStatusCode.Forbidden, oldRefusedAtOnce);
        Assert.Equal("2048:true", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT key_bits || ':' || (previous_key_spki IS NULL) FROM merchants WHERE merchant_id = $1", merchant.MerchantId));
        Assert.Equal("key-refused,key-refused,key-rotated", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg(action, ',' ORDER BY audit_id) FROM console_audit WHERE merchant_id = $1 AND action LIKE 'key-%'", merchant.MerchantId));
    }

    [Fact]
    public async Task ASuspendedMerchant_RefusesNewOrdersAndPayments_WhileRefundsQueriesAndNotificationsGoOn_AndPaysAgainOnceReactivated()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ops = await PlatformAdminAsync();
        var merchantAdmin = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "boss", "admin", Password);
        var paid = TestMerchant.NewOrderId();
        Assert.Contains("successful", await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(paid, 40_00, bgRetUrl: server.Url)), Card),
            StringComparison.OrdinalIgnoreCase);
        var waiting = TestMerchant.NewOrderId();
        var waitingPage = await consumer.StartNetPayAsync(merchant.NetPayOrder(waiting, 25_00, bgRetUrl: server.Url));

        var suspended = await MoveAsync(ops, merchant.MerchantId, "suspend", "chargebacks under review");
        using var newOrder = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(TestMerchant.NewOrderId(), 10_00));
        var newOrderProblem = await newOrder.Content.ReadFromJsonAsync<JsonElement>();
        using var pageShown = await consumer.Http.GetAsync(waitingPage.Action);
        var pageRefusal = await pageShown.Content.ReadAsStringAsync();
        var payRefusal = await consumer.PayAsync(waitingPage, Card);
        var waitingStatus = await OrderStatusAsync(merchant, waiting);
        using var refund = await consumer.PostFormAsync("/pay/Refund",
            merchant.NetPayRefund(paid, 15_00, "rf-suspended", transType: "0102", returnUrl: server.Url + "/refund"));
        var refundAnswer = TestMerchant.ReadNetPayAnswer(await refund.Content.ReadAsByteArrayAsync());
        var refundResult = await server.WaitForAsync(r => r.Path == "/notify/refund");
        var query = await QueryCodeAsync(consumer, merchant, paid);
        var consoleHome = await GetAsync(merchantAdmin, "/console");
        var opsRow = await OpsRowAsync(ops, merchant.MerchantId);

        var reactivated = await MoveAsync(ops, merchant.MerchantId, "reactivate", "review done");
        var paidAfter = await consumer.PayAsync(await consumer.OpenAsync(waitingPage.Action), Card);
        var consoleHomeAfter = await GetAsync(merchantAdmin, "/console");

        Assert.Equal($"{merchant.MerchantId} ({TestMerchant.Name}) is suspended.", suspended);
        Assert.Equal(HttpStatusCode.Forbidden, newOrder.StatusCode);
        Assert.Equal(("merchant.suspended", "The merchant is suspended", "https://mesh.example/problems/merchant.suspended"),
            (newOrderProblem.GetProperty("code").GetString(), newOrderProblem.GetProperty("title").GetString(), newOrderProblem.GetProperty("type").GetString()));
        Assert.Equal(HttpStatusCode.Forbidden, pageShown.StatusCode);
        Assert.Contains("(code merchant.suspended)", pageRefusal);
        Assert.Contains("(code merchant.suspended)", payRefusal);
        Assert.Equal("created", waitingStatus);
        Assert.Equal((HttpStatusCode.OK, "0", "3"), (refund.StatusCode, refundAnswer["ResponseCode"], refundAnswer["Status"]));
        Assert.NotNull(refundResult);
        Assert.Equal("0", query);
        Assert.Contains("id=\"merchant-state\"", consoleHome);
        Assert.Contains("<strong>suspended</strong>", consoleHome);
        Assert.Contains("chargebacks under review", consoleHome);
        Assert.Contains("suspended · chargebacks under review", opsRow);
        Assert.Equal($"{merchant.MerchantId} ({TestMerchant.Name}) is active.", reactivated);
        Assert.Contains("successful", paidAfter, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("paid", await OrderStatusAsync(merchant, waiting));
        Assert.DoesNotContain("id=\"merchant-state\"", consoleHomeAfter);
        Assert.Equal("merchant-suspended,merchant-active", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg(action, ',' ORDER BY audit_id) FROM console_audit WHERE merchant_id = 'platform' AND detail LIKE $1 || ':%'", merchant.MerchantId));
    }

    [Fact]
    public async Task AV1OrderCreate_WhileSuspended_SaysWhy_AndTheSameIdempotencyKeyCreatesTheOrderOnceReactivated()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var api = platform.App.CreateHttpClient("gateway", "http");
        var ops = await PlatformAdminAsync();
        var before = "before-" + TestMerchant.NewOrderId();
        using (var created = await api.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, before, 9_00))))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var orderId = "during-" + TestMerchant.NewOrderId();

        await MoveAsync(ops, merchant.MerchantId, "suspend", "unpaid fees");
        using var refused = await CreateAsync(api, merchant, orderId, "lifecycle-" + orderId);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        using var queried = await api.GetAsync($"/v1/orders/{before}?{merchant.Query([], ("orderId", before))}");
        await MoveAsync(ops, merchant.MerchantId, "reactivate", "fees paid");
        using var createdAfter = await CreateAsync(api, merchant, orderId, "lifecycle-" + orderId);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("merchant.suspended", "suspended"), (problem.GetProperty("code").GetString(), problem.GetProperty("merchantStatus").GetString()));
        Assert.Contains("takes no new orders or payments until it is reactivated", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, queried.StatusCode);
        Assert.Equal(HttpStatusCode.Created, createdAfter.StatusCode);
    }

    [Fact]
    public async Task AMerchant_CannotSuspendOrReactivateItselfOrAnother_NorCanAPlatformOperatorWithoutTheAdminRole()
    {
        using var a = await TestMerchant.OnboardAsync(platform);
        using var b = await TestMerchant.OnboardAsync(platform);
        var ops = await PlatformAdminAsync();
        var aAdmin = await ConsoleSession.MerchantUserAsync(platform, a.MerchantId, "self", "admin", Password);
        var platformOperator = await ConsoleSession.PlatformUserAsync(platform, "poper" + Suffix(), "platform-operator", Password);
        await MoveAsync(ops, b.MerchantId, "suspend", "for the test");
        var form = new Dictionary<string, string> { ["reason"] = "I do as I please" };

        using var suspendSelf = await PostAsync(aAdmin, $"/ops/merchants/{a.MerchantId}/suspend", form);
        using var reactivateOther = await PostAsync(aAdmin, $"/ops/merchants/{b.MerchantId}/reactivate", form);
        using var offboardSelf = await PostAsync(aAdmin, $"/ops/merchants/{a.MerchantId}/offboard", form);
        using var byOperator = await PostAsync(platformOperator, $"/ops/merchants/{a.MerchantId}/suspend", form);

        foreach (var refused in new[] { suspendSelf, reactivateOther, offboardSelf })
        {
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.Equal("/ops/login", refused.Headers.Location?.OriginalString);
        }
        Assert.Equal(HttpStatusCode.Forbidden, byOperator.StatusCode);
        Assert.Equal(("active", "suspended"), (await StatusAsync(a.MerchantId), await StatusAsync(b.MerchantId)));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = 'platform' AND detail LIKE $1 || ':%'", a.MerchantId));
    }

    [Fact]
    public async Task AnOffboardedMerchant_TakesNoNewOrders_AndClosesOnceItsLastBatchIsPaid_KeepingItsDataForTheRetentionPeriod()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ops = await PlatformAdminAsync();
        // The merchant's admin, signed in before the merchant leaves: a live session must not move money once it is closed.
        var merchantAdmin = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "madmin" + Suffix(), "admin", Password);
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var day = SettlementLedgerTests.NextDay();
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(4, 0)), TimeSpan.Zero);
        var sale = new SettlementLedgerTests.Purchase(0, merchant.MerchantId, 80_00, at);
        await settlement.RecordAsync(new RecordRequest { Events = { SettlementLedgerTests.Event($"offboard-{merchant.MerchantId}", "purchase", "paid", sale, 80_00, at) } });

        var offboarded = await MoveAsync(ops, merchant.MerchantId, "offboard", "contract ended");
        using var newOrder = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(TestMerchant.NewOrderId(), 10_00));
        var newOrderProblem = await newOrder.Content.ReadFromJsonAsync<JsonElement>();
        var batch = (await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{day:yyyy-MM-dd}" })).Batches.Single(b => b.MerchantId == merchant.MerchantId);
        var whileBatchPending = await StatusAsync(merchant.MerchantId);
        using var payout = await PostAsync(ops, $"/ops/settlement/batches/{batch.BatchId}/payout",
            new() { ["reference"] = $"OFFBOARD-{merchant.MerchantId}", ["date"] = $"{day:yyyy-MM-dd}" });
        var closed = await Eventually.UntilAsync(() => StatusAsync(merchant.MerchantId), s => s == "closed", "the offboarded merchant is closed once paid");
        using var afterClose = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(TestMerchant.NewOrderId(), 10_00));
        var afterCloseProblem = await afterClose.Content.ReadFromJsonAsync<JsonElement>();
        using var refundAfterClose = await PostAsync(merchantAdmin, $"/console/transactions/{TestMerchant.NewOrderId()}/refund/confirm",
            new() { ["refundId"] = "closed-refund", ["amountMinor"] = "100" });
        var opsRow = await OpsRowAsync(ops, merchant.MerchantId);

        Assert.StartsWith($"{merchant.MerchantId} ({TestMerchant.Name}) is offboarding. It closes once nothing is owed: ", offboarded);
        Assert.Equal((HttpStatusCode.Forbidden, "merchant.offboarding"), (newOrder.StatusCode, newOrderProblem.GetProperty("code").GetString()));
        Assert.Equal(8_000 - 100, batch.NetPayableMinor);
        Assert.Equal("offboarding", whileBatchPending);
        Assert.Equal(HttpStatusCode.OK, payout.StatusCode);
        Assert.Equal("closed", closed);
        Assert.Equal((HttpStatusCode.Forbidden, "merchant.closed"), (afterClose.StatusCode, afterCloseProblem.GetProperty("code").GetString()));
        Assert.Equal(HttpStatusCode.Forbidden, refundAfterClose.StatusCode);
        Assert.Contains("merchant.closed", await refundAfterClose.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("closed · its last settlement batch is paid · data kept until ", opsRow);
        Assert.True(await platform.ScalarAsync<bool>("gatewaydb",
            "SELECT retain_until - status_changed_at = interval '1825 days' FROM merchants WHERE merchant_id = $1", merchant.MerchantId));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = 'platform' AND operator_id = 'offboarding' AND action = 'merchant-closed' AND detail LIKE $1 || ':%'",
            merchant.MerchantId));
    }

    private static string Suffix() => RandomNumberGenerator.GetInt32(100_000, 999_999).ToString(CultureInfo.InvariantCulture);

    private Task<ConsoleSession> PlatformAdminAsync() => ConsoleSession.PlatformUserAsync(platform, "padmin" + Suffix(), "platform-admin", Password);

    private static async Task<HttpStatusCode> TransGetAsync(TestConsumer consumer, TestMerchant merchant)
    {
        using var posted = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(TestMerchant.NewOrderId(), 12_00));
        return posted.StatusCode;
    }

    /// <summary>NetPay's order query signed by <paramref name="merchant"/>'s key: its answer's ResponeseCode ("0": found and answered).</summary>
    private static async Task<string> QueryCodeAsync(TestConsumer consumer, TestMerchant merchant, string ordId)
    {
        using var answered = await consumer.PostFormAsync("/pay/Query", merchant.NetPayQuery(ordId));
        return TestMerchant.ReadNetPayAnswer(await answered.Content.ReadAsByteArrayAsync()).GetValueOrDefault("ResponeseCode") ?? "";
    }

    private static async Task<HttpResponseMessage> CreateAsync(HttpClient api, TestMerchant merchant, string orderId, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/orders") { Content = JsonContent.Create(merchant.SignV1(OrdersApiTests.Order(merchant, orderId, 9_00))) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await api.SendAsync(request);
    }

    /// <summary>The console's key upload: its status and the page's message (or error).</summary>
    private async Task<(HttpStatusCode Status, string Message)> UploadKeyAsync(ConsoleSession admin, string pem, string overlapDays, bool confirmProtocolEnds = false)
    {
        var form = new Dictionary<string, string> { ["pem"] = pem, ["overlapDays"] = overlapDays };
        if (confirmProtocolEnds)
        {
            form["confirmProtocolEnds"] = "yes";
        }
        using var answer = await PostAsync(admin, "/console/settings/certificate", form);
        return (answer.StatusCode, MessageOf(await answer.Content.ReadAsStringAsync()));
    }

    /// <summary>An operator's move of a merchant in the operator console: the page's message (fails on an error).</summary>
    private async Task<string> MoveAsync(ConsoleSession ops, string merchantId, string move, string reason)
    {
        using var answer = await PostAsync(ops, $"/ops/merchants/{merchantId}/{move}", new() { ["reason"] = reason });
        var html = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{move} answered {answer.StatusCode}: {MessageOf(html)}");
        return MessageOf(html);
    }

    private async Task<string> OpsRowAsync(ConsoleSession ops, string merchantId)
    {
        var html = await GetAsync(ops, "/ops/merchants");
        return WebUtility.HtmlDecode(Regex.Match(html, $"<tr id=\"merchant-{merchantId}\">(.*?)</tr>").Groups[1].Value);
    }

    private Task<string> StatusAsync(string merchantId) =>
        platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM merchants WHERE merchant_id = $1", merchantId);

    private Task<string> OrderStatusAsync(TestMerchant merchant, string orderId) =>
        platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE merchant_id = $1 AND order_id = $2", merchant.MerchantId, orderId);

    private static string MessageOf(string html) =>
        WebUtility.HtmlDecode(MessagePattern().Match(html) is { Success: true } m ? m.Groups[1].Value : "");


    private HttpClient Browser() => new(new HttpClientHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
    })
    { BaseAddress = platform.App.GetEndpoint("gateway", "https") };

    private async Task<HttpResponseMessage> PostAsync(ConsoleSession session, string path, Dictionary<string, string> form)
    {
        using var http = Browser();
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(form.Append(new KeyValuePair<string, string>("csrf", session.Csrf!))),
        };
        request.Headers.Add("Cookie", session.Cookie);
        return await http.SendAsync(request);
    }

    private async Task<string> GetAsync(ConsoleSession session, string path)
    {
        using var http = Browser();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", session.Cookie);
        using var answer = await http.SendAsync(request);
        return await answer.Content.ReadAsStringAsync();
    }

    [GeneratedRegex("""id="(?:message|error-message)">([^<]*)</p>""")]
    private static partial Regex MessagePattern();
}
