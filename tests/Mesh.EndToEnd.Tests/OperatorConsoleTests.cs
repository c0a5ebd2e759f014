using System.Net.Http.Json;
using System.Security.Cryptography;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The operator console in the machine's Chromium: its own sign-in, the switch's links, a
/// merchant onboarded through the form, settlement batches, a day's reconciliation; and a
/// merchant's console session does not open it.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class OperatorConsoleTests(MeshPlatformFixture platform)
{
    private const string Password = "platform operator password";

    [Fact]
    public async Task APlatformAdmin_SeesTheLinks_OnboardsAMerchantThroughTheForm_AndReadsSettlementAndReconciliation()
    {
        var operatorId = "ops" + Random.Shared.Next(100_000, 999_999);
        using (var admin = platform.App.CreateHttpClient("gateway", "http"))
        {
            admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
            using var added = await admin.PostAsJsonAsync("/admin/platform-operators", new { operatorId, role = "platform-admin", password = Password });
            Assert.Equal(System.Net.HttpStatusCode.Created, added.StatusCode);
        }
        var merchantId = "8" + Random.Shared.NextInt64(10_000_000_000_000, 99_999_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var key = RSA.Create(2048);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } }))
            .NewPageAsync();
        var gateway = platform.App.GetEndpoint("gateway", "https");

        await page.GotoAsync(new Uri(gateway, "/ops/login").ToString());
        await page.FillAsync("#operatorId", operatorId);
        await page.FillAsync("#password", Password);
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("#links");
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
}
