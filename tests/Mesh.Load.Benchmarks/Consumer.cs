using System.Net;
using System.Text.RegularExpressions;

namespace Mesh.Load;

/// <summary>
/// A consumer without a browser: opens the payment page over HTTPS with its own cookies, seals
/// the PIN exactly as the page's script does (ECDH P-256 + HKDF-SHA256 + AES-GCM to the Hsm's
/// transport key, the session nonce as associated data) and submits card, expiry and PIN. One
/// consumer pays once: a new person's browser, with a new connection, a full TLS handshake (no
/// session to resume) and no cookies; disposing it closes the connection.
/// </summary>
public sealed partial class Consumer : IDisposable
{
    private readonly HttpClient _http;

    public Consumer(Uri paymentPage)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            CookieContainer = new CookieContainer(),
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true, AllowTlsResume = false },
        };
        _http = new HttpClient(handler) { BaseAddress = paymentPage, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>
    /// Opens the page at <paramref name="payUrl"/> (following the gateway's redirect) and pays; true when the result page says
    /// <paramref name="success"/> (a held order's says the payment is authorized).
    /// </summary>
    public async Task<(bool Paid, double OpenMs, double SubmitMs, double ResultMs)> PayAsync(Uri payUrl, string pan, string pin,
        string success = "Payment successful")
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var html = await GetFollowingAsync(payUrl.PathAndQuery);
        var opened = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var form = new Dictionary<string, string>
        {
            ["csrf"] = Attribute(html, PaymentPageMarkup.CsrfPattern()),
            ["pan"] = pan,
            ["expiry"] = "12/30",
            ["pinScheme"] = Attribute(html, PaymentPageMarkup.SchemePattern()),
        };
        PagePinSealing.AddTo(form, PagePinSealing.Seal(Convert.FromBase64String(Attribute(html, PaymentPageMarkup.KeyPattern())), Attribute(html, PaymentPageMarkup.NoncePattern()), pin));
        started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var submitted = await _http.PostAsync(Attribute(html, PaymentPageMarkup.ActionPattern()), new FormUrlEncodedContent(form));
        var answer = await submitted.Content.ReadAsStringAsync();
        var submit = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (submitted.StatusCode == HttpStatusCode.OK)
        {
            // The submit answered with the result: there is no result page to ask for.
            return (answer.Contains(success, StringComparison.Ordinal), opened, submit, 0);
        }
        if (submitted.StatusCode != HttpStatusCode.Redirect)
        {
            throw new LoadException($"payment refused {(int)submitted.StatusCode}", $"the payment form was answered {(int)submitted.StatusCode}: {answer}");
        }
        started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await GetFollowingAsync(submitted.Headers.Location!.OriginalString);
        var resultMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return (result.Contains(success, StringComparison.Ordinal), opened, submit, resultMs);
    }

    /// <summary>
    /// Opens the page and pays with a credit card (expiry and CVV2, no PIN); when its bank asks for the one-time code,
    /// <paramref name="code"/> reads it from the cardholder's inbox and it is sent. The code's round trip counts in the submit.
    /// </summary>
    public async Task<(bool Paid, double OpenMs, double SubmitMs, double ResultMs)> PayCreditAsync(Uri payUrl, string pan, string cvv2, Func<Task<string>> code)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var html = await GetFollowingAsync(payUrl.PathAndQuery);
        var opened = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        started = System.Diagnostics.Stopwatch.GetTimestamp();
        var answer = await PostAsync(Attribute(html, PaymentPageMarkup.ActionPattern()), new Dictionary<string, string>
        {
            ["csrf"] = Attribute(html, PaymentPageMarkup.CsrfPattern()),
            ["pan"] = pan,
            ["expiry"] = "12/30",
            ["pinScheme"] = Attribute(html, PaymentPageMarkup.SchemePattern()),
            ["cvv2"] = cvv2,
        });
        if (PaymentPageMarkup.CodeActionPattern().Match(answer) is { Success: true } codeForm)
        {
            answer = await PostAsync(WebUtility.HtmlDecode(codeForm.Groups[1].Value), new Dictionary<string, string>
            {
                ["csrf"] = Attribute(answer, PaymentPageMarkup.CsrfPattern()),
                ["otp"] = await code(),
            });
        }
        return (answer.Contains("Payment successful", StringComparison.Ordinal), opened, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0);
    }

    private async Task<string> PostAsync(string action, Dictionary<string, string> form)
    {
        using var submitted = await _http.PostAsync(action, new FormUrlEncodedContent(form));
        var answer = await submitted.Content.ReadAsStringAsync();
        return submitted.StatusCode == HttpStatusCode.OK
            ? answer
            : throw new LoadException($"payment refused {(int)submitted.StatusCode}", $"the payment form was answered {(int)submitted.StatusCode}: {answer}");
    }

    private async Task<string> GetFollowingAsync(string location)
    {
        for (var hops = 0; hops < 5; hops++)
        {
            using var response = await _http.GetAsync(location);
            if (response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.SeeOther)
            {
                location = response.Headers.Location!.OriginalString;
                continue;
            }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new LoadException($"page {(int)response.StatusCode}", $"{location} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            return await response.Content.ReadAsStringAsync();
        }
        throw new LoadException("redirect loop", location);
    }

    private static string Attribute(string html, Regex pattern) =>
        WebUtility.HtmlDecode(pattern.Match(html) is { Success: true } m ? m.Groups[1].Value : throw new LoadException("not a payment page", pattern.ToString()));

    public void Dispose() => _http.Dispose();
}

/// <summary>A purchase that went wrong, with its kind (what the error table counts) and the detail.</summary>
public sealed class LoadException(string kind, string detail) : Exception($"{kind}: {detail}")
{
    public string Kind { get; } = kind;
}
