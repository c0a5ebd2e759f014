using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The merchant console's signed-in pages in the browser's language: Simplified Chinese for a browser that asks for
/// <c>zh-CN</c> (amounts in ¥, times in China time), English after the language switch, axe finding nothing serious
/// in either, a screenshot of each main page in both; and no English heading or label left on a Chinese page.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class MerchantConsoleLanguageTests(MeshPlatformFixture platform)
{
    private const string Password = "bilingual passphrase long";

    [Fact]
    public async Task EveryMainPage_InAChineseBrowser_IsInChinese_WithYuanAndChinaTime_AndAfterTheSwitchInEnglish_AxeFindsNothingSerious()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var (orderId, page) = await SignedInChineseAsync(browser, merchant, "lang");
        var pages = MainPages(orderId);
        var chinese = new List<string>();
        foreach (var (path, name, _, _, _) in pages)
        {
            await GoAsync(page, path);
            chinese.Add($"{name}: {await page.GetAttributeAsync("html", "lang")} {await page.TextContentAsync("main h1")}");
            await TestBrowser.AssertAccessibleAsync(page, $"{path} in Chinese");
            await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"console-{name}-zh-CN"), FullPage = true });
        }
        await GoAsync(page, "/console");
        var volume = await page.TextContentAsync("#today-volume");
        await GoAsync(page, "/console/transactions");
        var row = await page.InnerTextAsync("#transactions tbody tr");
        var exportNote = await page.TextContentAsync("#export-columns");

        await page.ClickAsync("#language-en");
        await page.WaitForSelectorAsync("html[lang=en]");
        var english = new List<string>();
        foreach (var (path, name, _, _, _) in pages)
        {
            await GoAsync(page, path);
            english.Add($"{name}: {await page.GetAttributeAsync("html", "lang")} {await page.TextContentAsync("main h1")}");
            await TestBrowser.AssertAccessibleAsync(page, $"{path} in English");
            await page.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"console-{name}-en"), FullPage = true });
        }
        await GoAsync(page, "/console/transactions");
        var englishExportNote = await page.TextContentAsync("#export-columns");

        Assert.Equal(pages.Select(p => $"{p.Name}: zh-CN {p.Chinese}"), chinese);
        Assert.Equal(pages.Select(p => $"{p.Name}: en {p.English}"), english);
        Assert.Equal("¥12.34", volume);
        Assert.Contains("¥12.34", row);
        Assert.Contains("（北京时间）", row);
        Assert.Contains("已支付", row);
        Assert.Contains("列名固定为英文", exportNote);
        Assert.Contains("fixed English names", englishExportNote);
    }

    [Fact]
    public async Task NoEnglishHeadingOrLabel_IsLeftOnAChinesePage_AndFormsErrorsAreInChineseToo()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var (orderId, page) = await SignedInChineseAsync(browser, merchant, "zhonly");
        var leftOver = new List<string>();
        foreach (var (path, name, _, _, words) in MainPages(orderId))
        {
            await GoAsync(page, path);
            var text = await page.InnerTextAsync("main");
            leftOver.AddRange(words.Where(w => text.Contains(w, StringComparison.Ordinal)).Select(w => $"{name}: {w}"));
        }
        await GoAsync(page, $"/console/transactions/{orderId}/refund");
        await page.FillAsync("#amount", "99.00");
        await page.ClickAsync("#review");
        var tooMuch = await page.TextContentAsync("#refund-error");
        await GoAsync(page, "/console/settings");
        await page.FillAsync("#pem", "not a key");
        await page.ClickAsync("#upload");
        var keyRefusal = await page.TextContentAsync("#error-message");

        Assert.Empty(leftOver);
        Assert.Equal("最多还可退款 ¥12.34", tooMuch);
        Assert.Equal("无法读取的 PEM 公钥或证书", keyRefusal);
    }

    /// <summary>
    /// Each main page: its path, its name in screenshots, its first heading in Chinese and in English, and the English words
    /// (headings, labels, buttons, column names) that must not be left on it in Chinese.
    /// </summary>
    private static List<(string Path, string Name, string Chinese, string English, string[] EnglishWords)> MainPages(string orderId) =>
    [
        ("/console", "home", "今日", "Today", ["Today", "paid today", "approval rate", "Last 30 days"]),
        ("/console/transactions", "transactions", "交易", "Transactions",
            ["Status", "Order number", "Amount from", "Amount to", "Search", "Export CSV", "Created", "Refunded", "Card", "Page 1", "paid"]),
        ($"/console/transactions/{orderId}", "order", $"订单 {orderId}", $"Order {orderId}",
            ["Status", "Amount", "Refundable", "Refunded", "Created", "Timeline", "order created", "payment approved", "response", "authorization", "Refund"]),
        ($"/console/transactions/{orderId}/refund", "refund", $"订单 {orderId} 退款", $"Refund order {orderId}",
            ["Refund order", "Paid", "Refundable", "Amount", "Reason", "Review the refund"]),
        ("/console/notifications", "notifications", "通知", "Notifications", ["Notifications", "Order", "State", "Attempts", "Re-send"]),
        ("/console/settlement", "settlement", "清算", "Settlement", ["Settlement", "Gross", "Fees", "Net payable", "No settlement date"]),
        ("/console/settings", "settings", "密钥与设置", "Keys and settings",
            ["Keys and settings", "Your key", "Platform certificate", "download", "Return addresses", "Rotate your key", "Save", "Upload", "Mode", "Protocol"]),
        ("/console/users", "users", "操作员", "Operators", ["Operators", "Role", "Locked until", "Add an operator", "Password", "characters or more"]),
        ("/console/risk", "risk", "风险控制", "Risk controls",
            ["Risk controls", "Per payment", "Per day", "The platform's caps", "Your limits", "Refused attempts", "blank: none"]),
    ];

    /// <summary>One paid order of ¥12.34 for <paramref name="merchant"/>, and its admin signed in to the console in a Chinese browser.</summary>
    private async Task<(string OrderId, IPage Page)> SignedInChineseAsync(IBrowser browser, TestMerchant merchant, string operatorId)
    {
        using var consumer = new TestConsumer(platform);
        var orderId = TestMerchant.NewOrderId();
        Assert.Contains("successful", await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(orderId, 12_34)), Acquirer.TestCard("622202", 1)),
            StringComparison.OrdinalIgnoreCase);
        var session = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, operatorId, "admin", Password);
        var gateway = platform.App.GetEndpoint("gateway", "https");
        var context = await session.BrowserContextAsync(browser, gateway,
            new BrowserNewContextOptions { Locale = "zh-CN", ViewportSize = new() { Width = 1280, Height = 900 } });
        return (orderId, await context.NewPageAsync());
    }

    private async Task GoAsync(IPage page, string path)
    {
        var answer = await page.GotoAsync(new Uri(platform.App.GetEndpoint("gateway", "https"), path).ToString());
        Assert.True(answer is { Ok: true }, $"{path} answered {answer?.Status} at {page.Url}");
    }
}
