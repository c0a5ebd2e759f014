using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The demo shop (built on the SDK alone) in the machine's Chromium: teas into the cart, checkout
/// to the gateway's payment page, the card and PIN typed there, back to the shop's order page,
/// paid; the shop's own notification endpoint (the SDK's) has the platform's word on it.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class DemoShopTests(MeshPlatformFixture platform)
{
    [Fact]
    public async Task AConsumer_FillsACart_PaysOnThePaymentPage_AndTheShopShowsTheOrderPaid()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1100, Height = 800 } });
        var page = await context.NewPageAsync();
        var shop = platform.App.GetEndpoint("shop", "http");

        await page.GotoAsync(shop.ToString());
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("shop-catalogue"), FullPage = true });
        await page.ClickAsync("#add-longjing");
        await page.GotoAsync(shop.ToString());
        await page.ClickAsync("#add-tieguanyin");
        var total = await page.TextContentAsync("#total");
        await page.ClickAsync("#checkout");
        // A /v1 order's payUrl answers with the payment page itself.
        await TestBrowser.WaitForPageAsync(page, "**/pay/orders/**");
        await page.WaitForSelectorAsync("#pay");
        var paymentPage = page.Url;
        await page.CheckAsync("input[name=gateId][value='0102']");
        await page.FillAsync("#pan", Acquirer.TestCard("622202", 1));
        await page.FillAsync("#expiry", "12/30");
        await page.FillAsync("#pin", "123456");
        await page.ClickAsync("#pay-button");
        try
        {
            await page.WaitForURLAsync($"{shop.GetLeftPart(UriPartial.Authority)}/orders/**", new() { Timeout = 30_000, WaitUntil = WaitUntilState.Commit });
        }
        catch (TimeoutException ex)
        {
            // Where the consumer was left instead, and what it read there: the payment's answer, or the page that did not move on.
            var text = await page.InnerTextAsync("body");
            throw new TimeoutException($"not back at the shop after paying; at {page.Url}: {text[..Math.Min(text.Length, 600)]}", ex);
        }
        await page.WaitForSelectorAsync("#order-status.paid", new() { Timeout = 30_000 });
        var orderId = await page.TextContentAsync("#order-id");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath("shop-order-paid"), FullPage = true });
        await page.GotoAsync(new Uri(shop, "/orders").ToString());
        var listed = await page.Locator($"#orders tr:has-text('{orderId}')").TextContentAsync();
        var notificationId = await Eventually.UntilAsync(() => platform.ScalarAsync<long>("gatewaydb",
                "SELECT coalesce(max(outbox_id), 0) FROM outbox WHERE topic = 'notification' AND merchant_id = '808080000000001' AND order_id = $1 AND delivered_at IS NOT NULL",
                orderId!),
            id => id != 0, $"the shop told of its order {orderId} being paid (a notification delivered)");

        Assert.Equal("¥216.50", total);
        Assert.StartsWith(platform.App.GetEndpoint("gateway", "https").GetLeftPart(UriPartial.Authority), paymentPage);
        Assert.StartsWith("tea", orderId);
        Assert.Contains("paid", listed);
        Assert.Contains("1 × West Lake Longjing, 1 × Tieguanyin", listed);
        Assert.Contains("622202******0015", listed);
        Assert.NotEqual(0, notificationId);
        Assert.Equal(1L, await platform.ScalarAsync<long>("shopdb", "SELECT count(*) FROM shop_notifications WHERE notification_id = $1",
            notificationId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("paid:21650", await platform.ScalarAsync<string>("shopdb", "SELECT status || ':' || amount_minor FROM shop_orders WHERE order_id = $1", orderId!));
    }

    [Theory]
    [InlineData("en-US", "en", "Our teas", "Your cart", "zh-CN", "我们的茶")]
    [InlineData("zh-CN", "zh-CN", "我们的茶", "您的购物车", "en", "Our teas")]
    public async Task TheShop_SpeaksTheBrowsersLanguage_PassesAxe_AndRemembersTheOtherLanguageOnceChosen(string locale, string lang, string catalogueTitle,
        string cartTitle, string otherLang, string otherCatalogueTitle)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = locale, ViewportSize = new() { Width = 1100, Height = 800 } });
        var page = await context.NewPageAsync();
        var shop = platform.App.GetEndpoint("shop", "http");

        await page.GotoAsync(shop.ToString());
        Assert.Equal(lang, await page.GetAttributeAsync("html", "lang"));
        Assert.Equal(catalogueTitle, await page.InnerTextAsync("h1"));
        await TestBrowser.AssertAccessibleAsync(page, $"the shop's catalogue ({lang})");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"shop-catalogue-{lang}"), FullPage = true });
        await page.ClickAsync("#add-longjing");
        await page.WaitForSelectorAsync("#cart");
        Assert.Equal(cartTitle, await page.InnerTextAsync("h1"));
        Assert.Equal("¥128.00", await page.InnerTextAsync("#total"));
        await TestBrowser.AssertAccessibleAsync(page, $"the shop's cart ({lang})");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"shop-cart-{lang}"), FullPage = true });
        await page.GotoAsync(new Uri(shop, "/orders").ToString());
        await TestBrowser.AssertAccessibleAsync(page, $"the shop's orders ({lang})");
        await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"shop-orders-{lang}"), FullPage = true });

        await page.ClickAsync($"#language-{otherLang}");
        await page.WaitForFunctionAsync($"document.documentElement.lang === '{otherLang}'");
        await page.GotoAsync(shop.ToString());
        Assert.Equal(otherCatalogueTitle, await page.InnerTextAsync("h1"));
    }

    [Fact]
    public async Task TheShop_RefusesToBeFramed_RunsNoScript_AndItsOwnStyleStillApplies()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();

        var answer = await page.GotoAsync(platform.App.GetEndpoint("shop", "http").ToString());
        var headers = await answer!.AllHeadersAsync();
        var headerBackground = await page.EvalOnSelectorAsync<string>("header", "e => getComputedStyle(e).backgroundColor");

        Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("DENY", headers["x-frame-options"]);
        Assert.Equal("rgb(61, 90, 64)", headerBackground);
    }
}
