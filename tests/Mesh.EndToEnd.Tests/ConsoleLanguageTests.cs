using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The consoles' sign-in pages in the browser's language: Simplified Chinese when it asks for
/// <c>zh-CN</c>, English otherwise, with a switch on the page that is remembered; the errors a person
/// reads in the same language; axe finds nothing serious in Chinese either; both sign-in pages screenshotted in both languages.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class ConsoleLanguageTests(MeshPlatformFixture platform)
{
    [Fact]
    public async Task AChineseBrowser_SeesTheSignInInChinese_ItsErrorsToo_AndTheSwitchRemembersEnglish()
    {
        var gateway = platform.App.GetEndpoint("gateway", "https");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, Locale = "zh-CN" })).NewPageAsync();

        await page.GotoAsync(new Uri(gateway, "/console/login").ToString());
        var chinese = (await page.TextContentAsync("h1"), await page.GetAttributeAsync("html", "lang"), await page.TextContentAsync("label[for=password]"));
        var axe = await TestBrowser.SeriousViolationsAsync(page);
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-login-zh-CN"), FullPage = true });
        await page.GotoAsync(new Uri(gateway, "/ops/login").ToString());
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-ops-login-zh-CN"), FullPage = true });
        await page.GotoAsync(new Uri(gateway, "/console/login").ToString());
        await page.FillAsync("#merchantId", "898000000000999");
        await page.FillAsync("#operatorId", "nobody");
        await page.FillAsync("#password", "not the password");
        await page.ClickAsync("#sign-in");
        var chineseError = await page.TextContentAsync("#login-error");
        await page.ClickAsync("#language-en");
        await page.WaitForSelectorAsync("html[lang=en]");
        await page.GotoAsync(new Uri(gateway, "/ops/login").ToString());
        var english = (await page.TextContentAsync("h1"), await page.GetAttributeAsync("html", "lang"));
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-ops-login-en"), FullPage = true });
        await page.GotoAsync(new Uri(gateway, "/console/login").ToString());
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("console-login-en"), FullPage = true });

        Assert.Equal(("商户控制台", "zh-CN", "密码"), chinese);
        Assert.Empty(axe);
        Assert.Equal("商户号、操作员号或密码错误。", chineseError);
        Assert.Equal(("Operator console", "en"), english);
    }
}
