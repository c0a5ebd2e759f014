using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Every page of the merchant console and of the operator console, as its most privileged role sees
/// it (every form shown), and the refund's confirm and done pages a form leads to, checked by axe in
/// Chromium: no serious or critical violation.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class ConsoleAccessibilityTests(MeshPlatformFixture platform)
{
    private const string Password = "accessible passphrase long";

    [Fact]
    public async Task EveryMerchantConsolePage_HasNoSeriousOrCriticalAxeViolation()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var orderId = TestMerchant.NewOrderId();
        Assert.Contains("successful", await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(orderId, 12_34)), Acquirer.TestCard("622202", 1)),
            StringComparison.OrdinalIgnoreCase);
        var session = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "axe", "admin", Password);

        var violations = await CheckAsync(session, "/console/login",
        [
            "/console", "/console/transactions", $"/console/transactions/{orderId}", $"/console/transactions/{orderId}/refund", "/console/notifications",
            "/console/settings", "/console/users", "/console/settlement", "/console/risk",
        ], async page =>
        {
            await page.GotoAsync(new Uri(platform.App.GetEndpoint("gateway", "https"), $"/console/transactions/{orderId}/refund").ToString());
            await page.FillAsync("#amount", "1.00");
            await page.ClickAsync("#review");
            await page.WaitForSelectorAsync("#confirm");
            var confirm = await TestBrowser.SeriousViolationsAsync(page);
            await page.ClickAsync("#confirm");
            await page.WaitForSelectorAsync("#refund-result");
            return [.. confirm.Select(v => $"refund confirm: {v}"), .. (await TestBrowser.SeriousViolationsAsync(page)).Select(v => $"refund done: {v}")];
        });

        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public async Task EveryOperatorConsolePage_HasNoSeriousOrCriticalAxeViolation()
    {
        var operatorId = "axe" + Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var session = await ConsoleSession.PlatformOperatorAsync(platform, operatorId, "platform-admin");

        var violations = await CheckAsync(session, "/ops/login",
        [
            "/ops", "/ops/merchants", "/ops/banks", "/ops/gates", "/ops/risk", "/ops/keys", "/ops/settlement", "/ops/reconciliation", "/ops/sessions",
        ]);

        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    /// <summary>
    /// The sign-in page signed out, then each page in the session's browser, then what <paramref name="then"/> finds on the pages it
    /// walks to: each serious or critical violation, with where it is.
    /// </summary>
    private async Task<List<string>> CheckAsync(ConsoleSession session, string login, string[] paths, Func<IPage, Task<string[]>>? then = null)
    {
        var gateway = platform.App.GetEndpoint("gateway", "https");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var violations = new List<string>();
        var signedOut = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true })).NewPageAsync();
        await CheckPageAsync(signedOut, new Uri(gateway, login), violations);
        var page = await (await session.BrowserContextAsync(browser, gateway)).NewPageAsync();
        foreach (var path in paths)
        {
            await CheckPageAsync(page, new Uri(gateway, path), violations);
        }
        if (then is not null)
        {
            violations.AddRange(await then(page));
        }
        return violations;
    }

    private static async Task CheckPageAsync(IPage page, Uri address, List<string> violations)
    {
        var answer = await page.GotoAsync(address.ToString());
        Assert.True(answer is { Ok: true }, $"{address.AbsolutePath} answered {answer?.Status} at {page.Url}");
        violations.AddRange((await TestBrowser.SeriousViolationsAsync(page)).Select(v => $"{address.AbsolutePath}: {v}"));
    }
}
