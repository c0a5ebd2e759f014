using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>The machine's Chromium under Playwright (test tools cannot download a browser here).</summary>
public static class TestBrowser
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>The most presses of Tab a keyboard user needs to reach a field of a page.</summary>
    public const int TabsMax = 40;

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });

    /// <summary>
    /// Waits until the browser is at <paramref name="url"/> and that page's document is parsed and its
    /// scripts have run (what a consumer needs before typing). The page's own <c>readyState</c> is
    /// asked rather than Playwright's load-event bookkeeping, which can miss the event of a
    /// navigation that committed before the wait began.
    /// </summary>
    public static async Task WaitForPageAsync(IPage page, string url)
    {
        await page.WaitForURLAsync(url, new() { WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync("document.readyState !== 'loading'");
    }

    /// <summary>Where screenshots of the main pages are kept as test artifacts: TestResults/screenshots at the repository's root.</summary>
    public static string ScreenshotPath(string name)
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Mesh.sln")))
        {
            folder = folder.Parent;
        }
        var screenshots = Path.Combine(folder?.FullName ?? AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(screenshots);
        return Path.Combine(screenshots, name + ".png");
    }

    /// <summary>Presses Tab until the element <paramref name="selector"/> has the focus, as a keyboard user moves through the page.</summary>
    public static async Task TabToAsync(IPage page, string selector)
    {
        for (var i = 0; i < TabsMax; i++)
        {
            if (await page.EvaluateAsync<bool>("s => document.activeElement?.matches(s) ?? false", selector))
            {
                return;
            }
            await page.Keyboard.PressAsync("Tab");
        }
        throw new Xunit.Sdk.XunitException($"{TabsMax} presses of Tab did not reach {selector} on {page.Url}");
    }

    /// <summary>Runs axe on the page as it is: no serious or critical violation.</summary>
    public static async Task AssertAccessibleAsync(IPage page, string what)
    {
        var serious = await SeriousViolationsAsync(page);
        Assert.True(serious.Count == 0, $"{what}: " + string.Join("; ", serious));
    }

    /// <summary>Runs axe on the page as it is: each serious or critical violation, with its rule, help and elements; fails if axe checked nothing.</summary>
    public static async Task<IReadOnlyList<string>> SeriousViolationsAsync(IPage page)
    {
        var results = await page.RunAxe();
        Assert.True(results.Passes.Length > 0, $"axe checked nothing on {page.Url}");
        return results.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html))}").ToList();
    }
}
