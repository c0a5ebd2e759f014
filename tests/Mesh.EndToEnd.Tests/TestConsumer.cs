using System.Net;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>The payment page as a browser shows it: the form's address, its CSRF token, and what the page's script encrypts the PIN with.</summary>
public sealed record PaymentPage(string Html, string Action, string Csrf, string PinNonce, string TransportKey, string PinScheme);

/// <summary>
/// A consumer without a browser: follows the gateway's redirects over HTTPS with a cookie jar, and
/// encrypts the PIN exactly as the page's script does (ECDH P-256 + HKDF + AES-GCM to the Hsm's
/// transport key, the session nonce as associated data).
/// </summary>
public sealed partial class TestConsumer : IDisposable
{
    private readonly HttpClient _http;

    public TestConsumer(MeshPlatformFixture platform)
    {
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            CookieContainer = new CookieContainer(),
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        };
        _http = new HttpClient(handler) { BaseAddress = platform.App.GetEndpoint("gateway", "https") };
    }

    public HttpClient Http => _http;

    public async Task<HttpResponseMessage> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> form) =>
        await _http.PostAsync(path, new FormUrlEncodedContent(form));

    /// <summary>The merchant's page posts the order; the consumer lands on the payment page.</summary>
    public async Task<PaymentPage> StartNetPayAsync(Dictionary<string, string> order)
    {
        using var posted = await PostFormAsync("/pay/TransGet", order);
        Assert.True(posted.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.SeeOther, $"TransGet answered {posted.StatusCode}: {await posted.Content.ReadAsStringAsync()}");
        return await OpenAsync(posted.Headers.Location!.OriginalString);
    }

    public async Task<PaymentPage> OpenAsync(string location)
    {
        using var response = await _http.GetAsync(location);
        if (response.StatusCode == HttpStatusCode.Redirect)
        {
            return await OpenAsync(response.Headers.Location!.OriginalString);
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Read(await response.Content.ReadAsStringAsync());
    }

    public static PaymentPage Read(string html)
    {
        string Attribute(Regex pattern) => WebUtility.HtmlDecode(pattern.Match(html) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"not on the page: {pattern}\n{html}"));
        return new PaymentPage(html, Attribute(PaymentPageMarkup.ActionPattern()), Attribute(PaymentPageMarkup.CsrfPattern()), Attribute(PaymentPageMarkup.NoncePattern()), Attribute(PaymentPageMarkup.KeyPattern()), Attribute(PaymentPageMarkup.SchemePattern()));
    }

    /// <summary>Submits the card and the PIN (encrypted as the page does); the gateway's answer, not followed.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(PaymentPage page, string pan, string expiryMmYy, string pin, string? csrf = null, string? gateId = null)
    {
        var form = new Dictionary<string, string>
        {
            ["csrf"] = csrf ?? page.Csrf,
            ["pan"] = pan,
            ["expiry"] = expiryMmYy,
            ["pinScheme"] = page.PinScheme,
        };
        if (gateId is not null)
        {
            form["gateId"] = gateId;
        }
        Seal(page, pin, form);
        return await PostFormAsync(page.Action, form);
    }

    /// <summary>Pays; the HTML the submit answers with (the result, or the page to fill in again).</summary>
    public async Task<string> PayAsync(PaymentPage page, string pan, string pin = "123456", string expiryMmYy = "12/30")
    {
        using var submitted = await SubmitAsync(page, pan, expiryMmYy, pin);
        return await submitted.Content.ReadAsStringAsync();
    }

    /// <summary>Submits a credit card: expiry and CVV2, no PIN, as the page posts them for a credit BIN; the gateway's answer, not followed.</summary>
    public async Task<HttpResponseMessage> SubmitCreditAsync(PaymentPage page, string pan, string expiryMmYy, string cvv2, string? csrf = null) =>
        await PostFormAsync(page.Action, new Dictionary<string, string>
        {
            ["csrf"] = csrf ?? page.Csrf,
            ["pan"] = pan,
            ["expiry"] = expiryMmYy,
            ["pinScheme"] = page.PinScheme,
            ["cvv2"] = cvv2,
        });

    /// <summary>Pays with a credit card; the HTML the submit answers with (the result, the one-time code's page, or the page again).</summary>
    public async Task<string> PayCreditAsync(PaymentPage page, string pan, string cvv2, string expiryMmYy = "12/30")
    {
        using var submitted = await SubmitCreditAsync(page, pan, expiryMmYy, cvv2);
        return await submitted.Content.ReadAsStringAsync();
    }

    /// <summary>Whether the HTML is the page that asks for the one-time code the card's bank sent.</summary>
    public static bool AsksForCode(string html) => PaymentPageMarkup.CodeActionPattern().IsMatch(html);

    /// <summary>Sends the one-time code on the code's page <paramref name="html"/>; the gateway's answer, not followed.</summary>
    public async Task<HttpResponseMessage> SubmitCodeAsync(string html, string code, string? csrf = null)
    {
        var action = PaymentPageMarkup.CodeActionPattern().Match(html) is { Success: true } m
            ? WebUtility.HtmlDecode(m.Groups[1].Value)
            : throw new Xunit.Sdk.XunitException($"not the one-time code's page:\n{html}");
        var token = csrf ?? WebUtility.HtmlDecode(PaymentPageMarkup.CsrfPattern().Match(html).Groups[1].Value);
        return await PostFormAsync(action, new Dictionary<string, string> { ["csrf"] = token, ["otp"] = code });
    }

    public static void Seal(PaymentPage page, string pin, Dictionary<string, string> form) =>
        PagePinSealing.AddTo(form, PagePinSealing.Seal(Convert.FromBase64String(page.TransportKey), page.PinNonce, pin));

    /// <summary>The hidden fields of the form that sends the consumer back to the merchant (PageRetUrl).</summary>
    public static Dictionary<string, string> ReturnFields(string html) =>
        HiddenPattern().Matches(html[html.IndexOf("id=\"return\"", StringComparison.Ordinal)..])
            .ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));

    public void Dispose() => _http.Dispose();


    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"\\s*/?>")]
    private static partial Regex HiddenPattern();
}
