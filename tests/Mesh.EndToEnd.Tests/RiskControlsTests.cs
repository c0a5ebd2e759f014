using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Mesh.Iso8583.Messages;
using Mesh.NetPay.Api;
using Mesh.NetPay.Notifications;
using Mesh.NetPay.Signing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The risk controls through every door: limits per payment (refused at order creation on /v1, NetPay and the SDK) and
/// per business day (two raced payments cannot both pass), velocity per card, blocked cards and networks, each refused
/// before the switch with its code in the merchant's answer, notification and console and the operator's view; the
/// consumer sees no list. Bad settings get a 400 and change nothing; non-admin operators are refused.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class RiskControlsTests(MeshPlatformFixture platform)
{
    private const string Password = "risk controls test password";
    private static readonly string ApprovedCard = Acquirer.TestCard("622202", 1);

    /// <summary>Balance 10.00: a larger payment is declined by the bank (51).</summary>
    private static readonly string DecliningCard = Acquirer.TestCard("622202", 2);

    [Fact]
    public async Task LimitPerPayment_TheMerchantTightensTheOperatorsCap_AndAnOrderOverItIsRefusedAtCreationOnEveryDoor()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        // NetPay's form keeps RSA-1024 keys, which /v1 no longer takes: its door is tried with a merchant of its own.
        using var netPayMerchant = await TestMerchant.OnboardAsync(platform);
        var ops = await OpsAsync("platform-admin");
        await AddMerchantUserAsync(merchant.MerchantId, "boss", "admin");
        await AddMerchantUserAsync(merchant.MerchantId, "clerk", "operator");
        var boss = await MerchantConsoleAsync(merchant.MerchantId, "boss");
        var clerk = await MerchantConsoleAsync(merchant.MerchantId, "clerk");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var consumer = new TestConsumer(platform);
        using var client = Client(merchant);
        var (v1Order, netPayOrder, sdkOrder, within) = ("rv1-" + TestMerchant.NewOrderId(), TestMerchant.NewOrderId(), "rsdk-" + TestMerchant.NewOrderId(),
            "rok-" + TestMerchant.NewOrderId());

        var caps = await ops.PostAsync("/ops/risk/caps", new() { ["merchantId"] = merchant.MerchantId, ["currency"] = "156", ["perPaymentMinor"] = "5000" });
        await ops.PostAsync("/ops/risk/caps", new() { ["merchantId"] = netPayMerchant.MerchantId, ["currency"] = "156", ["perPaymentMinor"] = "3000" });
        var looser = await boss.PostAsync("/console/risk/limits", new() { ["perPaymentMinor"] = "6000", ["perDayMinor"] = "" });
        var clerkSets = await clerk.PostAsync("/console/risk/limits", new() { ["perPaymentMinor"] = "", ["perDayMinor"] = "" });
        var tighter = await boss.PostAsync("/console/risk/limits", new() { ["perPaymentMinor"] = "3000", ["perDayMinor"] = "" });
        using var v1 = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, v1Order, 40_00)));
        var v1Problem = await v1.Content.ReadFromJsonAsync<JsonElement>();
        using var netPay = await consumer.PostFormAsync("/pay/TransGet", netPayMerchant.NetPayOrder(netPayOrder, 40_00));
        var netPayBody = await netPay.Content.ReadAsStringAsync();
        var sdk = await Assert.ThrowsAsync<NetPayException>(() => client.CreateOrderAsync(new CreateOrder(sdkOrder, 40_00, GateId: "0102")));
        var created = await client.CreateOrderAsync(new CreateOrder(within, 30_00, GateId: "0102"));
        var paid = await consumer.PayAsync(await consumer.OpenAsync(created.PayUrl!.PathAndQuery), ApprovedCard);
        var opsView = await ops.GetAsync($"/ops/risk?merchant={merchant.MerchantId}&rule=risk.limit_per_payment");
        var opsViewOfNetPay = await ops.GetAsync($"/ops/risk?merchant={netPayMerchant.MerchantId}&rule=risk.limit_per_payment");
        var consoleView = await boss.GetAsync("/console/risk");

        Assert.Equal(HttpStatusCode.OK, caps.Status);
        Assert.Equal(HttpStatusCode.BadRequest, looser.Status);
        Assert.Contains("may not be looser than the platform&#x27;s cap of 5000 minor units", looser.Html);
        Assert.Equal(HttpStatusCode.Forbidden, clerkSets.Status);
        Assert.Equal(HttpStatusCode.OK, tighter.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, v1.StatusCode);
        Assert.Equal("risk.limit_per_payment", v1Problem.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, netPay.StatusCode);
        Assert.Contains("risk.limit_per_payment", netPayBody);
        Assert.Equal((422, "risk.limit_per_payment"), (sdk.Status, sdk.Code));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM orders WHERE order_id = ANY($1)",
            (object)new[] { v1Order, netPayOrder, sdkOrder }));
        Assert.Contains("Payment successful", paid);
        Assert.Equal(HttpStatusCode.OK, opsView.Status);
        Assert.All(new[] { v1Order, sdkOrder }, o => Assert.Contains(o, opsView.Html));
        Assert.Contains(netPayOrder, opsViewOfNetPay.Html);
        Assert.DoesNotContain(within, opsView.Html);
        Assert.Contains(sdkOrder, consoleView.Html);
        Assert.Contains("risk.limit_per_payment", consoleView.Html);
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = $1 AND operator_id = 'boss' AND action = 'risk-limits-set'", merchant.MerchantId));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE operator_id = $1 AND action = 'risk-caps-set' AND detail LIKE $2", ops.OperatorId, merchant.MerchantId + "%"));
    }

    [Fact]
    public async Task LimitPerDay_TwoRacedPaymentsOverItTogether_OnlyOnePasses_TheOtherFailsWithTheCodeInTheAnswerAndTheNotification()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048", mode: "realtime");
        await using var server = await MerchantServer.StartAsync();
        using var client = Client(merchant);
        var ops = await OpsAsync("platform-admin");
        await ops.PostAsync("/ops/risk/caps", new() { ["merchantId"] = merchant.MerchantId, ["currency"] = "CNY", ["perDayMinor"] = "15000" });
        var (first, second) = ("rd1-" + TestMerchant.NewOrderId(), "rd2-" + TestMerchant.NewOrderId());
        var orderA = await client.CreateOrderAsync(new CreateOrder(first, 100_00, BackUrl: server.Url, GateId: "0102"));
        var orderB = await client.CreateOrderAsync(new CreateOrder(second, 100_00, BackUrl: server.Url, GateId: "0102"));
        using var a = new TestConsumer(platform);
        using var b = new TestConsumer(platform);
        var (pageA, pageB) = (await a.OpenAsync(orderA.PayUrl!.PathAndQuery), await b.OpenAsync(orderB.PayUrl!.PathAndQuery));

        var pages = await Task.WhenAll(a.PayAsync(pageA, ApprovedCard), b.PayAsync(pageB, ApprovedCard));
        var answers = new[] { await client.GetOrderAsync(first), await client.GetOrderAsync(second) };
        var refused = Assert.Single(answers, o => o.Status == Order.Failed);
        var reader = new NotificationReader(await client.PlatformCertificateAsync(), await client.PlatformNetPayKeyAsync());
        var notified = await server.WaitForAsync(r => reader.Read(r.Headers, r.ContentType, r.Body).OrderId == refused.OrderId);
        var notification = reader.Read(notified!.Headers, notified.ContentType, notified.Body);

        Assert.Single(answers, o => o.Status == Order.Paid);
        Assert.Equal(("risk.limit_per_day", "risk.limit_per_day"), (refused.ResponseCode, refused.RiskRefusal));
        Assert.Single(pages, p => p.Contains("Payment successful", StringComparison.Ordinal));
        var refusedPage = Assert.Single(pages, p => p.Contains("Payment failed", StringComparison.Ordinal));
        Assert.Contains("risk.limit_per_day", refusedPage);
        Assert.Equal(("failed", "risk.limit_per_day"), (notification.Status, notification.ResponseCode));
        Assert.Equal(100_00L, await UsedTodayAsync(merchant));

        // A declined payment gives back what it held: 50.00 declined by the bank, then 50.00 approved fills the day to 150.00; 0.01 more is refused.
        var declined = await PayV1Async(client, server, DecliningCard, 50_00);
        var fills = await PayV1Async(client, server, ApprovedCard, 50_00);
        var over = await PayV1Async(client, server, ApprovedCard, 1);

        Assert.Equal(("failed", "51"), (declined.Status, declined.ResponseCode));
        Assert.Equal(("paid", "00"), (fills.Status, fills.ResponseCode));
        Assert.Equal(("failed", "risk.limit_per_day"), (over.Status, over.ResponseCode));
        Assert.Equal(150_00L, await UsedTodayAsync(merchant));
    }

    [Fact]
    public async Task VelocityAndBlocks_AreRefusedBeforeTheSwitch_TheConsumerSeesNoList_TheMerchantAndOperatorSeeTheRule()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        await AddMerchantUserAsync(merchant.MerchantId, "boss", "admin");
        var boss = await MerchantConsoleAsync(merchant.MerchantId, "boss");
        var ops = await OpsAsync("platform-admin");
        using var consumer = new TestConsumer(platform);
        var (tested, blocked) = (FreshCard(), FreshCard());
        try
        {
            var velocity = await ops.PostAsync("/ops/risk/velocity", new() { ["attemptsMax"] = "2", ["amountMinorMax"] = "0", ["windowMinutes"] = "60" });
            var (one, two, three) = (await PayNetPayAsync(merchant, consumer, tested), await PayNetPayAsync(merchant, consumer, tested),
                await PayNetPayAsync(merchant, consumer, tested));
            // Off again: the shared test cards have many attempts in this window from other tests.
            await ops.PostAsync("/ops/risk/velocity", new() { ["attemptsMax"] = "0", ["amountMinorMax"] = "0", ["windowMinutes"] = "60" });
            var blockCard = await ops.PostAsync("/ops/risk/blocks/card", new() { ["pan"] = blocked, ["reason"] = "chargebacks" });
            var onBlockedCard = await PayNetPayAsync(merchant, consumer, blocked);
            var blockV4 = await ops.PostAsync("/ops/risk/blocks/network", new() { ["network"] = "127.0.0.0/8", ["reason"] = "test network" });
            var blockV6 = await ops.PostAsync("/ops/risk/blocks/network", new() { ["network"] = "::1", ["reason"] = "test network" });
            var fromBlockedNetwork = await PayNetPayAsync(merchant, consumer, ApprovedCard);
            foreach (var blockId in await NetworkBlocksAsync())
            {
                Assert.Equal(HttpStatusCode.OK, (await ops.PostAsync($"/ops/risk/blocks/{blockId}/remove", [])).Status);
            }
            var afterLifting = await PayNetPayAsync(merchant, consumer, ApprovedCard);
            var opsView = await ops.GetAsync($"/ops/risk?merchant={merchant.MerchantId}");
            var consoleView = await boss.GetAsync("/console/risk");

            Assert.Equal(HttpStatusCode.OK, velocity.Status);
            Assert.DoesNotContain("risk.", one.Html);
            Assert.DoesNotContain("risk.", two.Html);
            Assert.Equal("risk.velocity", three.Code);
            Assert.Contains("risk.declined", three.Html);
            Assert.DoesNotContain("velocity", three.Html);
            Assert.Equal(HttpStatusCode.OK, blockCard.Status);
            Assert.Contains($"Card {Masked(blocked)} is blocked.", blockCard.Html);
            Assert.Equal("risk.blocked_card", onBlockedCard.Code);
            Assert.Contains("risk.declined", onBlockedCard.Html);
            Assert.DoesNotContain("blocked_card", onBlockedCard.Html);
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (blockV4.Status, blockV6.Status));
            Assert.Equal("risk.blocked_network", fromBlockedNetwork.Code);
            Assert.Equal("00", afterLifting.Code);
            foreach (var (rule, order) in new[] { ("risk.velocity", three.OrderId), ("risk.blocked_card", onBlockedCard.OrderId),
                ("risk.blocked_network", fromBlockedNetwork.OrderId) })
            {
                Assert.Contains(order, opsView.Html);
                Assert.Contains(rule, opsView.Html);
                Assert.Contains(order, consoleView.Html);
            }
            Assert.Contains(Masked(blocked), opsView.Html);
            // The card number is hashed at once: no risk table holds it, only its masked form.
            Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb",
                "SELECT count(*) FROM risk_blocks b WHERE position($1 IN concat(b.pan_masked, b.reason, b.created_by, encode(b.pan_hash, 'escape'))) > 0", blocked));
            Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb",
                "SELECT count(*) FROM risk_refusals r WHERE position($1 IN concat(r.pan_masked, r.detail)) > 0", blocked));
            Assert.Equal("risk-card-blocked,risk-network-blocked,risk-network-blocked,risk-unblocked,risk-unblocked,risk-velocity-set,risk-velocity-set",
                await platform.ScalarAsync<string>("gatewaydb",
                    "SELECT string_agg(action, ',' ORDER BY action) FROM console_audit WHERE operator_id = $1 AND action LIKE 'risk-%'", ops.OperatorId));
        }
        finally
        {
            await ops.PostAsync("/ops/risk/velocity", new() { ["attemptsMax"] = "0", ["amountMinorMax"] = "0", ["windowMinutes"] = "60" });
            foreach (var blockId in await NetworkBlocksAsync())
            {
                await ops.PostAsync($"/ops/risk/blocks/{blockId}/remove", []);
            }
        }
    }

    [Fact]
    public async Task BadSettings_GetA400AndChangeNothing_NonAdminOperatorsAndMerchantsAreRefused()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        await AddMerchantUserAsync(merchant.MerchantId, "boss", "admin");
        var boss = await MerchantConsoleAsync(merchant.MerchantId, "boss");
        var ops = await OpsAsync("platform-admin");
        var watcher = await OpsAsync("platform-operator");
        var state = "SELECT concat((SELECT count(*) FROM risk_blocks), '/', (SELECT count(*) FROM risk_merchant_limits), '/', "
            + "(SELECT coalesce(string_agg(concat(attempts_max, ':', amount_minor_max, ':', window_minutes), ','), 'none') FROM risk_velocity))";
        var before = await platform.ScalarAsync<string>("gatewaydb", state);

        var bad = new List<(string Path, Dictionary<string, string> Form)>
        {
            ("/ops/risk/velocity", new() { ["attemptsMax"] = "-1", ["amountMinorMax"] = "0", ["windowMinutes"] = "60" }),
            ("/ops/risk/velocity", new() { ["attemptsMax"] = "5", ["amountMinorMax"] = "0", ["windowMinutes"] = "0" }),
            ("/ops/risk/velocity", new() { ["attemptsMax"] = "5", ["amountMinorMax"] = "99999999999999999999", ["windowMinutes"] = "60" }),
            ("/ops/risk/caps", new() { ["merchantId"] = merchant.MerchantId, ["currency"] = "156", ["perPaymentMinor"] = "-5" }),
            ("/ops/risk/caps", new() { ["merchantId"] = merchant.MerchantId, ["currency"] = "156", ["perDayMinor"] = "12.50" }),
            ("/ops/risk/caps", new() { ["merchantId"] = merchant.MerchantId, ["currency"] = "USD", ["perDayMinor"] = "100" }),
            ("/ops/risk/caps", new() { ["merchantId"] = "not-a-merchant", ["currency"] = "156", ["perDayMinor"] = "100" }),
            ("/ops/risk/blocks/network", new() { ["network"] = "10.0.0.0/33", ["reason"] = "x" }),
            ("/ops/risk/blocks/network", new() { ["network"] = "10.0.0.1/8", ["reason"] = "x" }),
            ("/ops/risk/blocks/network", new() { ["network"] = "300.1.1.1", ["reason"] = "x" }),
            ("/ops/risk/blocks/network", new() { ["network"] = "2001:db8::/32", ["reason"] = "" }),
            ("/ops/risk/blocks/card", new() { ["pan"] = "6222020000000000", ["reason"] = "bad check digit" }),
        };
        var answers = new List<(HttpStatusCode Status, string Html)>();
        foreach (var (path, form) in bad)
        {
            answers.Add(await ops.PostAsync(path, form));
        }
        var noSuchBlock = await ops.PostAsync("/ops/risk/blocks/999999999/remove", []);
        var noCsrf = await ops.PostAsync("/ops/risk/blocks/network", new() { ["network"] = "198.51.100.0/24", ["reason"] = "x" }, csrf: "forged");
        var watcherView = await watcher.GetAsync("/ops/risk");
        var watcherCaps = await watcher.PostAsync("/ops/risk/caps", new() { ["merchantId"] = merchant.MerchantId, ["currency"] = "156", ["perDayMinor"] = "1" });
        var watcherBlock = await watcher.PostAsync("/ops/risk/blocks/network", new() { ["network"] = "198.51.100.0/24", ["reason"] = "x" });
        var merchantAtOps = await boss.WithCookieGetAsync("/ops/risk");
        var merchantRaises = await boss.PostAsync("/console/risk/limits", new() { ["perPaymentMinor"] = "99999999999999", ["perDayMinor"] = "" });
        var after = await platform.ScalarAsync<string>("gatewaydb", state);

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.BadRequest, a.Status));
        Assert.Contains("the network is an IPv4 or IPv6 address, or a CIDR prefix", answers[7].Html);
        Assert.Contains("has bits set after its /8 prefix", answers[8].Html);
        Assert.Contains("blank (no limit) or 1 to", answers[3].Html);
        Assert.Equal(HttpStatusCode.NotFound, noSuchBlock.Status);
        Assert.Equal(HttpStatusCode.BadRequest, noCsrf.Status);
        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (watcherView.Status, watcherCaps.Status, watcherBlock.Status));
        Assert.Equal(HttpStatusCode.Redirect, merchantAtOps);
        Assert.Equal(HttpStatusCode.BadRequest, merchantRaises.Status);
        Assert.Equal(before, after);
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM console_audit WHERE operator_id = ANY($1) AND action LIKE 'risk-%'",
            (object)new[] { ops.OperatorId, watcher.OperatorId }));
    }

    private sealed record Paid(string OrderId, string Html, string? Code);

    private async Task<Paid> PayNetPayAsync(TestMerchant merchant, TestConsumer consumer, string card)
    {
        var orderId = TestMerchant.NewOrderId();
        var html = await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(orderId, 12_00)), card);
        return new Paid(orderId, html, await platform.ScalarAsync<string>("gatewaydb", "SELECT response_code FROM orders WHERE merchant_id = $1 AND order_id = $2",
            merchant.MerchantId, orderId));
    }

    private async Task<Order> PayV1Async(NetPay.Api.NetPayClient client, MerchantServer server, string card, long amountMinor)
    {
        using var consumer = new TestConsumer(platform);
        var created = await client.CreateOrderAsync(new CreateOrder("rv-" + TestMerchant.NewOrderId(), amountMinor, BackUrl: server.Url, GateId: "0102"));
        await consumer.PayAsync(await consumer.OpenAsync(created.PayUrl!.PathAndQuery), card);
        return await client.GetOrderAsync(created.OrderId);
    }

    private Task<long> UsedTodayAsync(TestMerchant merchant) =>
        platform.ScalarAsync<long>("gatewaydb", "SELECT coalesce(sum(used_minor), 0)::bigint FROM risk_merchant_days WHERE merchant_id = $1", merchant.MerchantId);

    private async Task<long[]> NetworkBlocksAsync() =>
        await platform.ScalarAsync<long[]>("gatewaydb", "SELECT coalesce(array_agg(block_id), '{}') FROM risk_blocks WHERE kind = 'network' AND reason = 'test network'");

    /// <summary>A card number no test has used (the issuer does not know it: a payment with it is declined).</summary>
    private static string FreshCard()
    {
        var body = "622202" + Random.Shared.NextInt64(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture);
        return body + Pan.LuhnCheckDigit(body);
    }

    private static string Masked(string card) => Pan.TryParse(card, out var pan) ? pan.Masked : throw new ArgumentException("not a card number", nameof(card));

    private NetPay.Api.NetPayClient Client(TestMerchant merchant) => new(new NetPayClientOptions
    {
        GatewayUrl = platform.App.GetEndpoint("gateway", "http"),
        MerchantId = merchant.MerchantId,
        Key = MerchantKey.FromPem(merchant.RsaKey.ExportPkcs8PrivateKeyPem()),
    });

    private async Task<SignedIn> OpsAsync(string role)
    {
        var operatorId = "risk" + Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        using var admin = platform.App.CreateHttpClient("gateway", "http");
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        using var added = await admin.PostAsJsonAsync("/admin/platform-operators", new { operatorId, role, password = Password });
        added.EnsureSuccessStatusCode();
        return new SignedIn(platform, operatorId, await ConsoleSession.SignInAsync(platform, "/ops", new() { ["operatorId"] = operatorId, ["password"] = Password }));
    }

    private async Task AddMerchantUserAsync(string merchantId, string operatorId, string role)
    {
        using var admin = platform.App.CreateHttpClient("gateway", "http");
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        using var added = await admin.PostAsJsonAsync($"/admin/merchants/{merchantId}/console-users", new { operatorId, role, password = Password });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
    }

    private async Task<SignedIn> MerchantConsoleAsync(string merchantId, string operatorId) =>
        new(platform, operatorId, await ConsoleSession.SignInAsync(platform, "/console",
            new() { ["merchantId"] = merchantId, ["operatorId"] = operatorId, ["password"] = Password }));

    /// <summary>A signed-in console session's requests, without following redirects.</summary>
    private sealed class SignedIn(MeshPlatformFixture platform, string operatorId, ConsoleSession session)
    {
        public string OperatorId => operatorId;

        private HttpClient Http() => new(new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        })
        { BaseAddress = platform.App.GetEndpoint("gateway", "https") };

        public async Task<(HttpStatusCode Status, string Html)> PostAsync(string path, Dictionary<string, string> form, string? csrf = null)
        {
            form["csrf"] = csrf ?? session.Csrf!;
            using var http = Http();
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Add("Cookie", session.Cookie);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        public async Task<(HttpStatusCode Status, string Html)> GetAsync(string path)
        {
            using var http = Http();
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("Cookie", session.Cookie);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        /// <summary>This session's cookie sent to another console's address: the status it gets.</summary>
        public async Task<HttpStatusCode> WithCookieGetAsync(string path) => (await GetAsync(path)).Status;
    }
}
