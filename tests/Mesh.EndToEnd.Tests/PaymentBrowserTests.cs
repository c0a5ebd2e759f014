using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A purchase in a real browser (the machine's Chromium, driven by Playwright): the merchant's
/// page auto-posts the signed NetPay form, the consumer types card, expiry and PIN, the page's
/// script encrypts the PIN with WebCrypto, and the result shows.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class PaymentBrowserTests(MeshPlatformFixture platform)
{
    [Theory]
    [InlineData(1, 99_00, "Payment successful", "Payment approved.")]
    [InlineData(2, 99_00, "Payment failed", "There are not enough funds on the card.")]
    public async Task APurchaseInChromium_ShowsTheResult_AndThePinNeverLeavesThePageInClear(int cardOutcome, long amountMinor, string title, string message)
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var ordId = TestMerchant.NewOrderId();
        var order = merchant.NetPayOrder(ordId, amountMinor, gateId: "");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true });
        var page = await context.NewPageAsync();
        var posted = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.PostData is { } body)
            {
                posted.Add(body);
            }
        };
        var console = new List<string>();
        page.Console += (_, message) => console.Add($"{message.Type}: {message.Text}");
        page.PageError += (_, error) => console.Add($"page error: {error}");
        var externalRequests = new List<string>();
        var gateway = platform.App.GetEndpoint("gateway", "https");
        page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(gateway.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal)
                && !request.Url.StartsWith("about:", StringComparison.Ordinal))
            {
                externalRequests.Add(request.Url);
            }
        };

        await page.SetContentAsync(MerchantCheckoutPage(new Uri(gateway, "/pay/TransGet"), order));
        await page.ClickAsync("#checkout");
        await TestBrowser.WaitForPageAsync(page, "**/pay/s/**");
        await page.CheckAsync("input[name=gateId][value='0102']");
        await page.FillAsync("#pan", Acquirer.TestCard("622202", cardOutcome));
        await page.FillAsync("#expiry", "12/30");
        await page.FillAsync("#pin", "123456");
        await page.ClickAsync("#pay-button");
        try
        {
            await page.WaitForSelectorAsync("#result", new PageWaitForSelectorOptions { Timeout = 15_000 });
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"no result page at {page.Url}; console: {string.Join(" | ", console)}\n{await page.ContentAsync()}");
        }

        Assert.Equal(title, (await page.TextContentAsync("#result"))?.Trim());
        Assert.Equal(message, (await page.TextContentAsync("#message"))?.Trim());
        Assert.Equal(TestMerchant.Name, await page.TextContentAsync("#merchant"));
        var payment = Assert.Single(posted, body => body.Contains("pinCiphertext", StringComparison.Ordinal));
        Assert.DoesNotContain("123456", WebUtility.UrlDecode(payment));
        Assert.DoesNotContain("pin=", payment);
        Assert.Empty(externalRequests);
    }

    /// <summary>What a NetPay merchant's checkout page is: a form of the signed order, posted to the gateway.</summary>
    [Fact]
    public async Task ACreditCardInChromium_ShowsTheCvv2FieldInsteadOfThePin_AndTheCodeItsBankAsksFor_AndPays()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var bank = await platform.HttpClientAsync("issuer-icbc");
        var card = (await bank.GetFromJsonAsync<List<JsonElement>>("/admin/test-cards"))!
            .Single(c => c.GetProperty("product").GetString() == "credit" && c.GetProperty("otpRequired").GetBoolean());
        var pan = card.GetProperty("pan").GetString()!;
        const long amount = 77_01;
        var order = merchant.NetPayOrder(TestMerchant.NewOrderId(), amount, gateId: "0102");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true });
        var page = await context.NewPageAsync();
        var posted = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.PostData is { } body)
            {
                posted.Add(body);
            }
        };
        var gateway = platform.App.GetEndpoint("gateway", "https");

        await page.SetContentAsync(MerchantCheckoutPage(new Uri(gateway, "/pay/TransGet"), order));
        await page.ClickAsync("#checkout");
        await TestBrowser.WaitForPageAsync(page, "**/pay/s/**");
        await page.FillAsync("#pan", Acquirer.TestCard("622202", 1));
        var debitShowsPin = await page.IsVisibleAsync("#pin") && !await page.IsVisibleAsync("#cvv2");
        await page.FillAsync("#pan", pan);
        var creditShowsCvv2 = await page.IsVisibleAsync("#cvv2") && !await page.IsVisibleAsync("#pin");
        await page.FillAsync("#expiry", "12/30");
        await page.FillAsync("#cvv2", card.GetProperty("cvv2").GetString()!);
        await page.ClickAsync("#pay-button");
        await page.WaitForSelectorAsync("#otp", new PageWaitForSelectorOptions { Timeout = 15_000 });
        string? code = null;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (code is null && DateTime.UtcNow < deadline)
        {
            var inbox = await bank.GetFromJsonAsync<List<JsonElement>>($"/admin/inbox?card={Uri.EscapeDataString(Mesh.Iso8583.Messages.Pan.Mask(pan))}");
            code = inbox!.FirstOrDefault(m => m.GetProperty("amountMinor").GetInt64() == amount) is { ValueKind: JsonValueKind.Object } message
                ? message.GetProperty("code").GetString()
                : null;
            await Task.Delay(code is null ? 100 : 0);
        }
        Assert.NotNull(code);
        await TestBrowser.AssertAccessibleAsync(page, "the one-time code page");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = TestBrowser.ScreenshotPath("payment-page-one-time-code"), FullPage = true });
        await page.FillAsync("#otp", code);
        await page.ClickAsync("#code-button");
        await page.WaitForSelectorAsync("#result", new PageWaitForSelectorOptions { Timeout = 15_000 });

        Assert.True(debitShowsPin, "a debit card's number shows the PIN field");
        Assert.True(creditShowsCvv2, "a credit card's number shows the CVV2 field instead of the PIN's");
        Assert.Equal("Payment successful", await page.InnerTextAsync("#result"));
        // The card's form went without a PIN: nothing sealed, the CVV2 in its place.
        Assert.Contains(posted, body => body.Contains("pinCiphertext=&", StringComparison.Ordinal) && body.Contains("cvv2=", StringComparison.Ordinal));
    }

    internal static string MerchantCheckoutPage(Uri transGet, Dictionary<string, string> order)
    {
        var html = new StringBuilder($"<html><body><form method=\"post\" action=\"{transGet}\">");
        foreach (var (name, value) in order)
        {
            html.Append($"<input type=\"hidden\" name=\"{WebUtility.HtmlEncode(name)}\" value=\"{WebUtility.HtmlEncode(value)}\">");
        }
        return html.Append("<button id=\"checkout\" type=\"submit\">Pay with NetPay</button></form></body></html>").ToString();
    }
}
