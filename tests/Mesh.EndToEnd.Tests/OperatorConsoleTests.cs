using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The operator console in the machine's Chromium: its own sign-in, the switch's links, a
/// merchant onboarded through the form, a bank onboarded from its key sheet, settlement batches,
/// a day's reconciliation; and a merchant's console session does not open it.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class OperatorConsoleTests(MeshPlatformFixture platform)
{
    private const string Password = "platform operator password";

    [Fact]
    public async Task APlatformAdmin_SeesTheLinks_OnboardsAMerchantThroughTheForm_AndReadsSettlementAndReconciliation()
    {
        var operatorId = await AddPlatformAdminAsync();
        var merchantId = "8" + Random.Shared.NextInt64(10_000_000_000_000, 99_999_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var key = RSA.Create(2048);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } }))
            .NewPageAsync();
        var gateway = platform.App.GetEndpoint("gateway", "https");

        await SignInAsync(page, operatorId);
        var links = await page.Locator("#links tbody tr").AllTextContentsAsync();
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("ops-links"), FullPage = true });

        await page.GotoAsync(new Uri(gateway, "/ops/merchants").ToString());
        await page.FillAsync("#merchantId", merchantId);
        await page.FillAsync("#name", "Operator Onboarded Shop");
        await page.FillAsync("#publicKeyPem", key.ExportSubjectPublicKeyInfoPem());
        await page.FillAsync("#settlementAccount", "6222020000000001");
        await page.ClickAsync("#onboard");
        var onboarded = await page.TextContentAsync("#message");
        var listed = await page.Locator($"#merchants td:text-is('{merchantId}')").CountAsync();
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("ops-merchants"), FullPage = true });

        await page.GotoAsync(new Uri(gateway, "/ops/settlement").ToString());
        var batchesShown = await page.Locator("#batches").CountAsync();
        var today = DateTime.UtcNow.AddHours(8).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await page.GotoAsync(new Uri(gateway, $"/ops/reconciliation?date={today}").ToString());
        var matched = await page.TextContentAsync("#matched");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("ops-reconciliation"), FullPage = true });

        Assert.Contains(links, l => l.Contains("issuer-icbc") && l.Contains("signed on"));
        Assert.Contains(links, l => l.Contains("issuer-ccb") && l.Contains("signed on"));
        Assert.Equal($"{merchantId} (Operator Onboarded Shop) is onboarded.", onboarded);
        Assert.Equal(1, listed);
        Assert.Equal("rsa:6000:100", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT key_algorithm || ':' || fee_rate_ppm || ':' || fee_minimum_minor FROM merchants WHERE merchant_id = $1", merchantId));
        Assert.Equal(1, batchesShown);
        Assert.Contains("matched", matched);
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = 'platform' AND operator_id = $1 AND action = 'merchant-onboarded'", operatorId));
    }

    [Fact]
    public async Task AMerchantsConsoleSession_DoesNotOpenTheOperatorConsole_NorDoesAMerchantLoginSignInThere()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using (var admin = platform.App.CreateHttpClient("gateway", "http"))
        {
            admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
            using var added = await admin.PostAsJsonAsync($"/admin/merchants/{merchant.MerchantId}/console-users", new { operatorId = "erin", role = "admin", password = Password });
            Assert.Equal(System.Net.HttpStatusCode.Created, added.StatusCode);
        }
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true })).NewPageAsync();
        var gateway = platform.App.GetEndpoint("gateway", "https");

        await page.GotoAsync(new Uri(gateway, "/console/login").ToString());
        await page.FillAsync("#merchantId", merchant.MerchantId);
        await page.FillAsync("#operatorId", "erin");
        await page.FillAsync("#password", Password);
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("#who");
        await page.GotoAsync(new Uri(gateway, "/ops").ToString());
        var landed = page.Url;
        await page.FillAsync("#operatorId", "erin");
        await page.FillAsync("#password", Password);
        await page.ClickAsync("#sign-in");
        var refused = await page.TextContentAsync("#login-error");

        Assert.EndsWith("/ops/login", landed);
        Assert.Equal("The operator id or password is wrong.", refused);
    }

    [Fact]
    public async Task APlatformAdmin_OnboardsABankFromItsKeySheet_RefusedOnAWrongCheckValue_AndItsCardsThenAuthorize()
    {
        var operatorId = await AddPlatformAdminAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        var card = Acquirer.TestCard("621661", 1);
        var declinedOrder = await PayAsync(merchant, card);
        using var bank = await platform.HttpClientAsync("issuer-boc");
        using var exported = await bank.PostAsync("/admin/zone-keys/export", null);
        Assert.True(exported.IsSuccessStatusCode, await exported.Content.ReadAsStringAsync());
        var sheet = await exported.Content.ReadFromJsonAsync<JsonElement>();
        var (zpk, zak) = (sheet.GetProperty("zpk"), sheet.GetProperty("zak"));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } }))
            .NewPageAsync();
        await SignInAsync(page, operatorId);

        await page.GotoAsync(new Uri(platform.App.GetEndpoint("gateway", "https"), "/ops/banks").ToString());
        var beforeRow = await page.TextContentAsync("#bank-issuer-boc");
        async Task SubmitAsync(string zakCheckValue)
        {
            await page.SelectOptionAsync("#issuer", "issuer-boc");
            await page.FillAsync("#bins", "621661, 456351");
            await page.FillAsync("#zpk", zpk.GetProperty("keyBlock").GetString()!);
            await page.FillAsync("#zpkCheckValue", zpk.GetProperty("checkValue").GetString()!);
            await page.FillAsync("#zak", zak.GetProperty("keyBlock").GetString()!);
            await page.FillAsync("#zakCheckValue", zakCheckValue);
            await page.ClickAsync("#onboard-bank");
        }
        await SubmitAsync("000000");
        var refused = await page.TextContentAsync("#error-message");
        var rowAfterRefusal = await page.TextContentAsync("#bank-issuer-boc");
        await SubmitAsync(zak.GetProperty("checkValue").GetString()!);
        var onboarded = await page.TextContentAsync("#message");
        var zpkShown = await page.TextContentAsync("#bank-issuer-boc td:nth-child(5)");
        var zakShown = await page.TextContentAsync("#bank-issuer-boc td:nth-child(6)");
        var binsShown = await page.TextContentAsync("#bank-issuer-boc .bins");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("ops-banks"), FullPage = true });
        var paidOrder = await PayAsync(merchant, card);

        Assert.Equal(HttpStatusCode.OK, exported.StatusCode);
        Assert.Equal("01040000", sheet.GetProperty("bankId").GetString());
        Assert.Equal("issuer-boc.zmk", sheet.GetProperty("zmkId").GetString());
        Assert.Equal("failed:15", await OrderOutcomeAsync(merchant, declinedOrder));
        Assert.Contains("not exchanged", beforeRow);
        Assert.Contains("none: not onboarded", beforeRow);
        Assert.Contains("the ZAK was not imported", refused);
        Assert.Contains("check value", refused);
        Assert.Contains("none: not onboarded", rowAfterRefusal);
        Assert.Equal($"issuer-boc (01040000) is onboarded: ZPK check value {zpk.GetProperty("checkValue").GetString()}, "
            + $"ZAK check value {zak.GetProperty("checkValue").GetString()}, BINs 456351, 621661.", onboarded);
        Assert.Equal(zpk.GetProperty("checkValue").GetString(), zpkShown);
        Assert.Equal(zak.GetProperty("checkValue").GetString(), zakShown);
        Assert.Equal("456351, 621661", binsShown);
        Assert.Equal("paid:00", await OrderOutcomeAsync(merchant, paidOrder));
        Assert.Equal("00", await platform.ScalarAsync<string>("switchdb",
            "SELECT response_code FROM authorizations WHERE issuer = 'issuer-boc' AND pan_masked LIKE '621661%' ORDER BY created_at DESC LIMIT 1"));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = 'platform' AND operator_id = $1 AND action = 'bank-onboarding-refused'", operatorId));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = 'platform' AND operator_id = $1 AND action = 'bank-onboarded'", operatorId));
    }

    private async Task<string> AddPlatformAdminAsync()
    {
        var operatorId = "ops" + Random.Shared.Next(100_000, 999_999);
        using var admin = platform.App.CreateHttpClient("gateway", "http");
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        using var added = await admin.PostAsJsonAsync("/admin/platform-operators", new { operatorId, role = "platform-admin", password = Password });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        return operatorId;
    }

    private async Task SignInAsync(IPage page, string operatorId)
    {
        await page.GotoAsync(new Uri(platform.App.GetEndpoint("gateway", "https"), "/ops/login").ToString());
        await page.FillAsync("#operatorId", operatorId);
        await page.FillAsync("#password", Password);
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("#links");
    }

    /// <summary>A /v1 order paid on the payment page with the card; its order id.</summary>
    private async Task<string> PayAsync(TestMerchant merchant, string pan)
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var consumer = new TestConsumer(platform);
        var orderId = "bank-" + TestMerchant.NewOrderId();
        var order = OrdersApiTests.Order(merchant, orderId, 88_00);
        order["gateId"] = "0104";
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(order));
        var payUrl = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payUrl").GetString()!;
        await consumer.PayAsync(await consumer.OpenAsync(new Uri(payUrl).PathAndQuery), pan);
        return orderId;
    }

    private Task<string> OrderOutcomeAsync(TestMerchant merchant, string orderId) =>
        platform.ScalarAsync<string>("gatewaydb", "SELECT status || ':' || coalesce(response_code, '') FROM orders WHERE merchant_id = $1 AND order_id = $2",
            merchant.MerchantId, orderId);
}
