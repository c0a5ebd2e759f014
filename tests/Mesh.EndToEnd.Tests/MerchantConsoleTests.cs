using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The merchant console in the machine's Chromium: sign-in and lockout, the transactions search,
/// a partial refund in two steps and what it leaves to refund, the settlement page, and another
/// merchant's order out of reach.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class MerchantConsoleTests(MeshPlatformFixture platform)
{
    private const string Password = "correct horse battery";

    [Fact]
    public async Task FiveWrongPasswords_LockTheOperatorOut_EvenForTheRightOne_AndEveryAttemptIsAudited()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        await AddUserAsync(merchant.MerchantId, "bob", "viewer");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true })).NewPageAsync();

        var errors = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            errors.Add(await SignInAsync(page, merchant.MerchantId, "bob", "wrong password " + i));
        }
        var withTheRightOne = await SignInAsync(page, merchant.MerchantId, "bob", Password);

        Assert.All(errors.Take(4), e => Assert.Contains("is wrong", e));
        Assert.Contains("locked for 15 minutes", errors[4]);
        Assert.Contains("locked for 15 minutes", withTheRightOne);
        Assert.EndsWith("/console/login", page.Url);
        Assert.Equal("login-failed:5,login-refused:1", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg(action || ':' || n, ',' ORDER BY action) FROM (SELECT action, count(*) n FROM console_audit WHERE merchant_id = $1 GROUP BY action) a",
            merchant.MerchantId));
    }

    [Fact]
    public async Task AnOperator_FindsAnOrder_RefundsPartOfItInTwoSteps_SeesWhatIsLeft_AndCannotReachAnotherMerchantsOrder()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var other = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var (big, small, theirs) = (TestMerchant.NewOrderId(), TestMerchant.NewOrderId(), TestMerchant.NewOrderId());
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(big, 100_00)), Acquirer.TestCard("622202", 1));
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(small, 25_50)), Acquirer.TestCard("622202", 1));
        await consumer.PayAsync(await consumer.StartNetPayAsync(other.NetPayOrder(theirs, 9_00)), Acquirer.TestCard("622202", 1));
        await AddUserAsync(merchant.MerchantId, "alice", "operator");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        var gateway = platform.App.GetEndpoint("gateway", "https");

        Assert.Equal("", await SignInAsync(page, merchant.MerchantId, "alice", Password));
        if (await page.Locator("#who").CountAsync() == 0)
        {
            throw new Xunit.Sdk.XunitException($"not signed in at {page.Url}: {await page.ContentAsync()}\n"
                + string.Join("\n", platform.Logs.Where(l => l.Resource == "gateway").TakeLast(30).Select(l => l.Line)));
        }
        var who = await page.TextContentAsync("#who");
        var volume = await page.TextContentAsync("#today-volume");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-home"), FullPage = true });

        await page.GotoAsync(new Uri(gateway, "/console/transactions").ToString());
        await page.FillAsync("#min", "50.00");
        await page.SelectOptionAsync("#status", "paid");
        await page.ClickAsync("#search");
        var found = await page.Locator("#transactions tbody tr td:first-child").AllTextContentsAsync();
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-transactions"), FullPage = true });
        var csv = await (await context.APIRequest.GetAsync(new Uri(gateway, $"/console/transactions?orderId={small}&format=csv").ToString())).TextAsync();

        await page.ClickAsync($"#transactions a:text-is('{big}')");
        await page.ClickAsync("#refund");
        await page.FillAsync("#amount", "130.00");
        await page.ClickAsync("#review");
        var tooMuch = await page.TextContentAsync("#refund-error");
        await page.FillAsync("#amount", "30.00");
        await page.FillAsync("#reason", "one cup returned");
        await page.ClickAsync("#review");
        var confirming = await page.TextContentAsync("#confirm-amount");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-refund-confirm"), FullPage = true });
        await page.ClickAsync("#confirm");
        var result = await page.TextContentAsync("#refund-result");
        await page.ClickAsync("#back");
        var refundable = await page.TextContentAsync("#refundable");
        var timeline = await page.TextContentAsync("#timeline");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-order"), FullPage = true });

        var detailUrl = page.Url;
        for (var i = 0; i < 50 && !(timeline!.Contains("purchase in the ledger", StringComparison.Ordinal) && timeline.Contains("refund in the ledger", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(200);
            await page.GotoAsync(detailUrl);
            timeline = await page.TextContentAsync("#timeline");
        }
        var theirsResponse = await page.GotoAsync(new Uri(gateway, $"/console/transactions/{theirs}").ToString());
        var theirsTitle = await page.TextContentAsync("#error");
        await page.GotoAsync(new Uri(gateway, "/console/settlement").ToString());
        var settlementShown = await page.Locator("#batches").CountAsync();
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-settlement"), FullPage = true });

        Assert.Equal($"{merchant.MerchantId} · alice (operator)", who);
        Assert.Equal("¥125.50", volume);
        Assert.Equal([big], found);
        Assert.Contains($"\n{small},", csv);
        Assert.DoesNotContain(big, csv);
        Assert.Contains("622202******0015", csv);
        Assert.Contains("at most ¥100.00 is left to refund", tooMuch);
        Assert.Equal("¥30.00", confirming);
        Assert.Equal("Refund succeeded", result?.Trim());
        Assert.Equal("¥70.00", refundable);
        Assert.Contains("refund succeeded", timeline);
        Assert.Contains("payment approved", timeline);
        Assert.Contains("purchase in the ledger · settlement date ", timeline);
        Assert.Contains("refund in the ledger", timeline);
        Assert.Equal(404, theirsResponse!.Status);
        Assert.Equal("No such order", theirsTitle);
        Assert.Equal(1, settlementShown);
        Assert.Equal(3000L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT sum(amount_minor)::bigint FROM refunds WHERE merchant_id = $1 AND order_id = $2 AND status = 'succeeded'", merchant.MerchantId, big));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = $1 AND action = 'refund' AND detail LIKE '%one cup returned%'", merchant.MerchantId));
    }

    [Fact]
    public async Task AnAdmin_ChangesNotificationSettings_ReplacesTheKey_ResendsANotification_AndAddsAViewerWhoCannotManage()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(TestMerchant.NewOrderId(), 12_00)), Acquirer.TestCard("622202", 1));
        await AddUserAsync(merchant.MerchantId, "carol", "admin");
        using var newKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var newFingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(newKey.ExportSubjectPublicKeyInfo()));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } }))
            .NewPageAsync();
        var gateway = platform.App.GetEndpoint("gateway", "https");

        Assert.Equal("", await SignInAsync(page, merchant.MerchantId, "carol", Password));
        await page.GotoAsync(new Uri(gateway, "/console/settings").ToString());
        await page.SelectOptionAsync("#mode", "realtime");
        await page.SelectOptionAsync("#protocol", "plain");
        await page.ClickAsync("#save-notifications");
        var saved = await page.TextContentAsync("#message");
        await page.FillAsync("#pem", newKey.ExportSubjectPublicKeyInfoPem());
        // The merchant's RSA-1024 key signs NetPay forms, an ECDSA key cannot: replacing it needs the admin's confirmation.
        await page.CheckAsync("#confirmProtocolEnds");
        await page.ClickAsync("#upload");
        var uploaded = await page.TextContentAsync("#message");
        var key = await page.TextContentAsync("#key");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-settings"), FullPage = true });

        await page.GotoAsync(new Uri(gateway, "/console/notifications").ToString());
        var listed = await page.Locator("#notifications tbody tr").CountAsync();
        await page.ClickAsync("#notifications button.resend >> nth=0");
        var resent = await page.TextContentAsync("#message");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-notifications"), FullPage = true });

        await page.GotoAsync(new Uri(gateway, "/console/users").ToString());
        await page.FillAsync("#operatorId", "dave");
        await page.SelectOptionAsync("#role", "viewer");
        await page.FillAsync("#password", Password);
        await page.ClickAsync("#add-user");
        var added = await page.TextContentAsync("#message");
        await page.ClickAsync("#sign-out");
        Assert.Equal("", await SignInAsync(page, merchant.MerchantId, "dave", Password));
        var usersForViewer = await page.GotoAsync(new Uri(gateway, "/console/users").ToString());

        Assert.Equal("Notification settings saved.", saved);
        Assert.StartsWith("Your new key is in use; your previous key also verifies until ", uploaded);
        Assert.Contains(newFingerprint, key);
        Assert.Equal("realtime/plain", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT notification_mode || '/' || notification_protocol FROM merchants WHERE merchant_id = $1", merchant.MerchantId));
        Assert.True(listed >= 1);
        Assert.Contains("will be sent again now", resent);
        Assert.Equal("dave can sign in now.", added);
        Assert.Equal(403, usersForViewer!.Status);
        Assert.Equal("key-rotated:1,login:2,logout:1,notification-resend:1,settings:1,user-added:1", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg(action || ':' || n, ',' ORDER BY action) FROM (SELECT action, count(*) n FROM console_audit WHERE merchant_id = $1 GROUP BY action) a",
            merchant.MerchantId));
    }

    [Fact]
    public async Task AnAdmin_RegistersReturnAddresses_NetPayOrdersMayReturnThereNext_AndABadOneChangesNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, returnUrlPrefixes: ["https://shop.example/netpay/"]);
        using var consumer = new TestConsumer(platform);
        await AddUserAsync(merchant.MerchantId, "erin", "admin");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true })).NewPageAsync();
        var gateway = platform.App.GetEndpoint("gateway", "https");
        using var before = await consumer.PostFormAsync("/pay/TransGet",
            merchant.NetPayOrder(TestMerchant.NewOrderId(), 10_00, bgRetUrl: "https://shop.example/v2/notify"));

        Assert.Equal("", await SignInAsync(page, merchant.MerchantId, "erin", Password));
        await page.GotoAsync(new Uri(gateway, "/console/settings").ToString());
        var shown = await page.InputValueAsync("#returnUrlPrefixes");
        await page.FillAsync("#returnUrlPrefixes", "https://shop.example/netpay/\nhttps://shop.example/v2/");
        await page.ClickAsync("#save-return-addresses");
        var saved = await page.TextContentAsync("#message");
        await page.FillAsync("#returnUrlPrefixes", "https://shop.example/v3/\nftp://shop.example/");
        await page.ClickAsync("#save-return-addresses");
        var refused = await page.TextContentAsync("#error-message");
        var ordId = TestMerchant.NewOrderId();
        using var after = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(ordId, 10_00, bgRetUrl: "https://shop.example/v2/notify"));

        Assert.Equal(HttpStatusCode.BadRequest, before.StatusCode);
        Assert.Equal("https://shop.example/netpay/", shown);
        Assert.Equal("Return addresses saved.", saved);
        Assert.Contains("absolute http(s) addresses", refused);
        Assert.Equal("{https://shop.example/netpay/,https://shop.example/v2/}", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT return_url_prefixes::text FROM merchants WHERE merchant_id = $1", merchant.MerchantId));
        Assert.True((int)after.StatusCode is >= 200 and < 400, $"{(int)after.StatusCode}");
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM orders WHERE merchant_id = $1 AND order_id = $2",
            merchant.MerchantId, ordId));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = $1 AND action = 'settings' AND detail LIKE 'return addresses:%'", merchant.MerchantId));
    }

    [Fact]
    public async Task WithoutASession_EveryPageSendsTheBrowserToSignIn_AndAFormWithoutItsToken_ChangesNothing()
    {
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
        {
            BaseAddress = platform.App.GetEndpoint("gateway", "https"),
        };

        using var home = await noRedirects.GetAsync("/console");
        using var refund = await noRedirects.PostAsync("/console/transactions/x/refund/confirm",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["amountMinor"] = "100", ["refundId"] = "forged" }));
        using var login = await noRedirects.PostAsync("/console/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["merchantId"] = "1", ["operatorId"] = "a", ["password"] = "b" }));

        Assert.Equal(System.Net.HttpStatusCode.Redirect, home.StatusCode);
        Assert.Equal("/console/login", home.Headers.Location?.ToString());
        Assert.Equal(System.Net.HttpStatusCode.Redirect, refund.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, login.StatusCode);
        Assert.Contains("frame-ancestors 'none'", login.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task AnOperator_SeesHolds_CapturesOneInPart_ReleasesAnother_AndAFormWithoutItsCsrfTokenChangesNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var captured = await HoldTests.HeldOrderAsync(platform, merchant, http, 40_00, "https://shop.example/notify");
        var released = await HoldTests.HeldOrderAsync(platform, merchant, http, 15_00, "https://shop.example/notify");
        await AddUserAsync(merchant.MerchantId, "bob", "operator");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true });
        var page = await context.NewPageAsync();
        var gateway = platform.App.GetEndpoint("gateway", "https");
        Assert.Equal("", await SignInAsync(page, merchant.MerchantId, "bob", Password));

        await page.GotoAsync(new Uri(gateway, "/console/transactions?status=authorized").ToString());
        var listed = await page.Locator("#transactions tbody tr").AllTextContentsAsync();
        var forged = context.APIRequest.CreateFormData();
        forged.Set("amount", "1.00");
        forged.Set("csrf", "not-the-token");
        var withoutToken = await context.APIRequest.PostAsync(new Uri(gateway, $"/console/transactions/{captured}/capture").ToString(),
            new() { Form = forged, MaxRedirects = 0 });
        var afterForgery = await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", captured);
        await page.GotoAsync(new Uri(gateway, $"/console/transactions/{captured}").ToString());
        var held = await page.TextContentAsync("#held");
        await page.FillAsync("#capture-amount", "25.00");
        await page.ClickAsync("#capture button");
        if (await page.Locator("#hold-result").CountAsync() == 0)
        {
            throw new Xunit.Sdk.XunitException($"no capture result at {page.Url}: {await page.ContentAsync()}");
        }
        var capturedResult = await page.TextContentAsync("#hold-result");
        await page.ClickAsync("#back");
        var capturedAmount = await page.TextContentAsync("#captured");
        var captureFormLeft = await page.Locator("#capture").CountAsync();
        await page.GotoAsync(new Uri(gateway, $"/console/transactions/{released}").ToString());
        await page.ClickAsync("#release button");
        var releasedResult = await page.TextContentAsync("#hold-result");

        Assert.Equal(2, listed.Count);
        Assert.All(listed, row => Assert.Contains("authorized · hold", row));
        Assert.Equal(400, withoutToken.Status);
        Assert.Equal("authorized", afterForgery);
        Assert.Equal("¥40.00", held);
        Assert.Equal("Captured", capturedResult?.Trim());
        Assert.Equal("¥25.00", capturedAmount);
        Assert.Equal(0, captureFormLeft);
        Assert.Equal("Released", releasedResult?.Trim());
        Assert.Equal("paid:2500|released:0", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg(status || ':' || paid_minor, '|' ORDER BY paid_minor DESC) FROM orders WHERE order_id IN ($1, $2)", captured, released));
        Assert.Equal(2L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = $1 AND action IN ('capture', 'release')", merchant.MerchantId));
    }

    private async Task AddUserAsync(string merchantId, string operatorId, string role)
    {
        using var admin = platform.App.CreateHttpClient("gateway", "http");
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        using var added = await admin.PostAsJsonAsync($"/admin/merchants/{merchantId}/console-users", new { operatorId, role, password = Password });
        Assert.Equal(System.Net.HttpStatusCode.Created, added.StatusCode);
    }

    /// <summary>Signs in on the login page; the error it shows, or "" once the console's home is open.</summary>
    private async Task<string> SignInAsync(IPage page, string merchantId, string operatorId, string password)
    {
        await page.GotoAsync(new Uri(platform.App.GetEndpoint("gateway", "https"), "/console/login").ToString());
        await page.FillAsync("#merchantId", merchantId);
        await page.FillAsync("#operatorId", operatorId);
        await page.FillAsync("#password", password);
        await page.ClickAsync("#sign-in");
        await page.WaitForLoadStateAsync();
        return await page.Locator("#login-error").CountAsync() > 0 ? (await page.TextContentAsync("#login-error"))! : "";
    }
}
