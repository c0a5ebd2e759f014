using System.Globalization;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The operator console's pages in the browser's language: Simplified Chinese for <c>zh-CN</c> (its words, errors, ¥ amounts
/// and China time), English otherwise, the language switch remembered; axe finds nothing serious or critical in Chinese; a
/// screenshot of each page in both languages; statuses, roles and key purposes labelled in Chinese; and no English word left
/// in a Chinese page's headings, labels and buttons.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed partial class OperatorConsoleLanguageTests(MeshPlatformFixture platform)
{
    /// <summary>Each main page, its name in the screenshots, and its heading in Chinese and in English.</summary>
    private static readonly (string Path, string Name, string Chinese, string English)[] Pages =
    [
        ("/ops", "switch", "交换系统链路", "The switch's links"),
        ("/ops/merchants", "merchants", "商户", "Merchants"),
        ("/ops/banks", "banks", "发卡银行", "Issuing banks"),
        ("/ops/gates", "gates", "网关号", "Gate codes"),
        ("/ops/risk", "risk", "风控规则", "Risk controls"),
        ("/ops/keys", "keys", "平台密钥", "Platform keys"),
        ("/ops/settlement", "settlement", "清算批次", "Settlement batches"),
        ("/ops/reconciliation?date=2026-01-01", "reconciliation", "三方对账", "Three-way reconciliation"),
        ("/ops/sessions", "sessions", "当前在线", "Signed in now"),
    ];

    /// <summary>What may stay in Latin letters on a Chinese page: names of standards, protocols, keys and units, not words.</summary>
    private static readonly string[] LatinAllowed =
    [
        "ISO", "pain.001", "pain.002", "XML", "PEM", "BIC", "NetPay", "BgRetUrl", "PageRetUrl", "GateId", "STAN", "ZMK", "ZPK", "ZAK", "TR-31", "BIN", "CIDR",
        "IPv4", "IPv6", "ppm", "HSM", "PIN", "ID", "docs/operations.md",
    ];

    [Fact]
    public async Task EveryOperatorPage_InAChineseBrowser_IsInChinese_WithYuanAndChinaTime_NothingSeriousForAxe_AndScreenshotsInBothLanguages()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var session = await ConsoleSession.PlatformOperatorAsync(platform, NewOperatorId("zh"), "platform-admin");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var chinese = await SignedInPageAsync(browser, session, "zh-CN");
        var english = await SignedInPageAsync(browser, session, "en-US");

        var shown = new List<(string Path, string? Lang, string? Heading)>();
        foreach (var (path, name, _, _) in Pages)
        {
            await GoAsync(chinese, path);
            shown.Add((path, await chinese.GetAttributeAsync("html", "lang"), await chinese.TextContentAsync("main h1")));
            await TestBrowser.AssertAccessibleAsync(chinese, path + " in Chinese");
            await chinese.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"ops-{name}-zh-CN"), FullPage = true });
            await GoAsync(english, path);
            shown.Add((path, await english.GetAttributeAsync("html", "lang"), await english.TextContentAsync("main h1")));
            await english.ScreenshotAsync(new() { Path = TestBrowser.ScreenshotPath($"ops-{name}-en"), FullPage = true });
        }
        await GoAsync(chinese, "/ops/merchants");
        var merchantRow = await chinese.TextContentAsync($"#merchant-{merchant.MerchantId}");
        await GoAsync(english, "/ops/merchants");
        var englishRow = await english.TextContentAsync($"#merchant-{merchant.MerchantId}");
        await GoAsync(chinese, "/ops/sessions");
        var sessions = await chinese.TextContentAsync("main table");
        await GoAsync(chinese, "/ops/keys");
        var keys = await chinese.TextContentAsync("main table");

        Assert.Equal(Pages.SelectMany(p => new[] { (p.Path, (string?)"zh-CN", (string?)p.Chinese), (p.Path, "en", p.English) }), shown);
        Assert.Contains("费率 6000 ppm，最低 ¥1.00", merchantRow);
        Assert.Contains("正常", merchantRow);
        Assert.Contains("active", englishRow);
        Assert.Contains("平台管理员", sessions);
        Assert.Contains("浏览器 PIN 传输 (ECDH)", keys);
        Assert.Matches(@"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}（北京时间）", merchantRow);
        Assert.Contains("6000 ppm, min ¥1.00", englishRow);
        Assert.Matches(@"\d{4}-\d{2}-\d{2} \d{2}:\d{2} China time", englishRow);
    }

    [Fact]
    public async Task TheLanguageSwitch_TurnsTheOperatorConsoleChinese_AndIsRemembered_AndErrorsAreWordedInChinese()
    {
        var session = await ConsoleSession.PlatformOperatorAsync(platform, NewOperatorId("sw"), "platform-admin");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await SignedInPageAsync(browser, session, "en-US");

        await GoAsync(page, "/ops/gates");
        var before = await page.TextContentAsync("main h1");
        await page.ClickAsync("#language-zh-CN");
        await page.WaitForSelectorAsync("html[lang=zh-CN]");
        var switched = await page.TextContentAsync("main h1");
        await page.FillAsync("#gateId", "12");
        await page.FillAsync("#bankName", "无效网关");
        await page.ClickAsync("#add-gate");
        var error = await page.TextContentAsync("#error-message");
        await GoAsync(page, "/ops/risk");
        await page.FillAsync("#network", "10.0.0.1/8");
        await page.ClickAsync("#block-network");
        var riskRefusal = await page.TextContentAsync("#error-message");
        await GoAsync(page, "/ops/keys");
        var remembered = (await page.GetAttributeAsync("html", "lang"), await page.TextContentAsync("main h1"), await page.TextContentAsync("#sign-out"));

        Assert.Equal("Gate codes", before);
        Assert.Equal("网关号", switched);
        Assert.Equal("网关号为 4 位数字", error);
        Assert.Equal("10.0.0.1/8 在 /8 前缀之后还有非零位：请填写该网络的第一个地址；原因须为 1 到 200 个字符，不含控制字符", riskRefusal);
        Assert.Equal(("zh-CN", "平台密钥", "退出"), remembered);
    }

    [Fact]
    public async Task NoOperatorPage_InChinese_LeavesAnEnglishWord_InItsHeadingsLabelsOrButtons()
    {
        var session = await ConsoleSession.PlatformOperatorAsync(platform, NewOperatorId("en"), "platform-admin");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await SignedInPageAsync(browser, session, "zh-CN");

        var english = new List<string>();
        foreach (var (path, _, _, _) in Pages)
        {
            await GoAsync(page, path);
            foreach (var text in await page.Locator("main h1, main h2, main p:not(.error), main th, main label, main button").AllInnerTextsAsync())
            {
                var words = LatinAllowed.Aggregate(text, (rest, allowed) => rest.Replace(allowed, "", StringComparison.Ordinal));
                if (LatinWord().IsMatch(words))
                {
                    english.Add($"{path}: {text}");
                }
            }
        }

        Assert.True(english.Count == 0, string.Join("\n", english));
    }

    private static string NewOperatorId(string prefix) => prefix + Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);

    /// <summary>A browser page in <paramref name="locale"/> (its Accept-Language) carrying the session's cookies.</summary>
    private async Task<IPage> SignedInPageAsync(IBrowser browser, ConsoleSession session, string locale)
    {
        var context = await session.BrowserContextAsync(browser, platform.App.GetEndpoint("gateway", "https"), new BrowserNewContextOptions { Locale = locale });
        return await context.NewPageAsync();
    }

    private async Task GoAsync(IPage page, string path)
    {
        var answer = await page.GotoAsync(new Uri(platform.App.GetEndpoint("gateway", "https"), path).ToString());
        Assert.True(answer is { Ok: true }, $"{path} answered {answer?.Status} at {page.Url}");
    }

    /// <summary>Two Latin letters together: an English word (a Chinese page's data, ids and codes are not in the elements read).</summary>
    [GeneratedRegex("[A-Za-z]{2,}")]
    private static partial Regex LatinWord();
}
