using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The consumer's pages as a person meets them in Chromium: in the browser's language (Simplified Chinese
/// for zh-CN, English otherwise), free of serious or critical accessibility violations (axe), paid with the
/// keyboard alone, and the language switch remembered. Each main page is screenshotted in both languages.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class ConsumerPagesTests(MeshPlatformFixture platform)
{
    [Theory]
    [InlineData("en-US", "en", "Pay by bank card", "Payment successful", "Payment approved.", "No such payment page")]
    [InlineData("zh-CN", "zh-CN", "银行卡支付", "支付成功", "支付成功。", "支付页面不存在")]
    public async Task EachPage_SpeaksTheBrowsersLanguage_PassesAxe_AndTheConsumerPaysWithTheKeyboardAlone(string locale, string lang, string payTitle,
        string paidTitle, string paidMessage, string noPageTitle)
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var order = merchant.NetPayOrder(TestMerchant.NewOrderId(), 1_234_56, gateId: "");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, Locale = locale });
        var page = await context.NewPageAsync();
        var gateway = platform.App.GetEndpoint("gateway", "https");

        await page.SetContentAsync(PaymentBrowserTests.MerchantCheckoutPage(new Uri(gateway, "/pay/TransGet"), order));
        await page.ClickAsync("#checkout");
        await TestBrowser.WaitForPageAsync(page, "**/pay/s/**");
        Assert.Equal(lang, await page.GetAttributeAsync("html", "lang"));
        Assert.Equal(payTitle, await page.InnerTextAsync("h1"));
        Assert.Equal("¥1,234.56", await page.InnerTextAsync("#amount"));
        await TestBrowser.AssertAccessibleAsync(page, $"the payment page ({lang})");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"payment-page-{lang}"), FullPage = true });

        // Keyboard only: Tab into the banks' radio group and arrow to ICBC, Tab to each field and type, Enter to pay.
        await TestBrowser.TabToAsync(page, "input[name=gateId]");
        for (var i = 0; i < TestBrowser.TabsMax && await page.EvaluateAsync<string>("document.activeElement.value") != "0102"; i++)
        {
            await page.Keyboard.PressAsync("ArrowDown");
        }
        await page.Keyboard.PressAsync("Space");
        await TestBrowser.TabToAsync(page, "#pan");
        await page.Keyboard.TypeAsync(Acquirer.TestCard("622202", 1));
        await TestBrowser.TabToAsync(page, "#expiry");
        await page.Keyboard.TypeAsync("12/30");
        await TestBrowser.TabToAsync(page, "#pin");
        await page.Keyboard.TypeAsync("123456");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForSelectorAsync("#result", new() { Timeout = 15_000 });

        Assert.Equal(paidTitle, await page.InnerTextAsync("#result"));
        Assert.Equal(paidMessage, await page.InnerTextAsync("#message"));
        Assert.Equal(lang, await page.GetAttributeAsync("html", "lang"));
        await TestBrowser.AssertAccessibleAsync(page, $"the result page ({lang})");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"result-page-{lang}"), FullPage = true });

        await page.GotoAsync(new Uri(gateway, "/pay/s/not-a-payment-page").ToString());
        Assert.Equal(noPageTitle, await page.InnerTextAsync("h1"));
        await TestBrowser.AssertAccessibleAsync(page, $"the error page ({lang})");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"error-page-{lang}"), FullPage = true });
    }

    [Fact]
    public async Task AChineseBrowser_SeesChinese_AndTheSwitchRemembersEnglish_OnEveryPage()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var order = merchant.NetPayOrder(TestMerchant.NewOrderId(), 88_00, gateId: "");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, Locale = "zh-CN" });
        var page = await context.NewPageAsync();
        var gateway = platform.App.GetEndpoint("gateway", "https");
        await page.SetContentAsync(PaymentBrowserTests.MerchantCheckoutPage(new Uri(gateway, "/pay/TransGet"), order));
        await page.ClickAsync("#checkout");
        await TestBrowser.WaitForPageAsync(page, "**/pay/s/**");
        var paymentPage = page.Url;
        Assert.Equal("银行卡支付", await page.InnerTextAsync("h1"));
        Assert.Equal("true", await page.GetAttributeAsync("#language-zh-CN", "aria-current"));

        await page.ClickAsync("#language-en");
        await TestBrowser.WaitForPageAsync(page, paymentPage);
        var afterSwitch = await page.InnerTextAsync("h1");
        await page.GotoAsync(new Uri(gateway, "/pay/s/not-a-payment-page").ToString());
        var elsewhere = await page.InnerTextAsync("h1");
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "__Host-mesh-culture");

        Assert.Equal("Pay by bank card", afterSwitch);
        Assert.Equal("No such payment page", elsewhere);
        Assert.Equal("en", await page.GetAttributeAsync("html", "lang"));
        Assert.True(cookie.Secure && cookie.HttpOnly && cookie.Path == "/", "the choice is kept in a __Host- cookie: Secure, HttpOnly, Path=/");

        await page.ClickAsync("#language-zh-CN");
        await page.WaitForFunctionAsync("document.documentElement.lang === 'zh-CN'");
        Assert.Equal("支付页面不存在", await page.InnerTextAsync("h1"));
    }
}
