using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>The machine's Chromium under Playwright (test tools cannot download a browser here).</summary>
public static class TestBrowser
{
    public const string ChromiumPath = "/usr/bin/chromium";

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
}
