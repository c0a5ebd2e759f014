using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>A signed-in console browser, without the browser: its cookie header and the pages' CSRF token.</summary>
public sealed partial record ConsoleSession(string? Cookie, string? Csrf)
{
    public static readonly ConsoleSession None = new(null, null);

    /// <summary>A browser context carrying this session's cookies for <paramref name="gateway"/>, with <paramref name="options"/> (HTTPS errors ignored).</summary>
    public async Task<Microsoft.Playwright.IBrowserContext> BrowserContextAsync(Microsoft.Playwright.IBrowser browser, Uri gateway,
        Microsoft.Playwright.BrowserNewContextOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var settings = options ?? new Microsoft.Playwright.BrowserNewContextOptions();
        settings.IgnoreHTTPSErrors = true;
        var context = await browser.NewContextAsync(settings);
        await context.AddCookiesAsync(Cookie!.Split("; ").Select(c => c.Split('=', 2))
            .Select(c => new Microsoft.Playwright.Cookie { Name = c[0], Value = c[1], Url = gateway.GetLeftPart(UriPartial.Authority), Secure = true }));
        return context;
    }

    /// <summary>
    /// Signs in through the console's own form (<c>/console</c> or <c>/ops</c>): the sign-in page's antiforgery cookie and field,
    /// then the session's cookie; the cookie header carries both, and the token is the one the console's pages put in their forms.
    /// </summary>
    public static async Task<ConsoleSession> SignInAsync(MeshPlatformFixture platform, string console, Dictionary<string, string> form)
    {
        var gateway = platform.App.GetEndpoint("gateway", "https");
        var jar = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler
        {
            AllowAutoRedirect = false,
            CookieContainer = jar,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        })
        { BaseAddress = gateway };
        var login = await http.GetStringAsync(console + "/login");
        form["csrf"] = CsrfPattern().Match(login).Groups[1].Value;
        using var signedIn = await http.PostAsync(console + "/login", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var csrf = CsrfPattern().Match(await http.GetStringAsync(console)).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(csrf), $"no CSRF token on {console}");
        return new ConsoleSession(jar.GetCookieHeader(gateway), csrf);
    }

    /// <summary>A page of the console as this session sees it: its status and HTML, without following a redirect.</summary>
    public async Task<(HttpStatusCode Status, string? Location, string Html)> GetAsync(MeshPlatformFixture platform, string path)
    {
        using var http = Client(platform);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", Cookie);
        using var answer = await http.SendAsync(request);
        return (answer.StatusCode, answer.Headers.Location?.OriginalString, await answer.Content.ReadAsStringAsync());
    }

    /// <summary>Posts a console form as this session, with <paramref name="csrf"/> as its token (none when null).</summary>
    public async Task<(HttpStatusCode Status, string? Location, string Html)> PostAsync(MeshPlatformFixture platform, string path,
        Dictionary<string, string> form, string? csrf)
    {
        using var http = Client(platform);
        if (csrf is not null)
        {
            form["csrf"] = csrf;
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("Cookie", Cookie);
        using var answer = await http.SendAsync(request);
        return (answer.StatusCode, answer.Headers.Location?.OriginalString, await answer.Content.ReadAsStringAsync());
    }

    private static HttpClient Client(MeshPlatformFixture platform) => new(new HttpClientHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
    })
    { BaseAddress = platform.App.GetEndpoint("gateway", "https") };

    /// <summary>Gives a merchant's person a console login through <c>/admin</c> and signs them in.</summary>
    public static async Task<ConsoleSession> MerchantUserAsync(MeshPlatformFixture platform, string merchantId, string operatorId, string role, string password)
    {
        using var admin = platform.App.CreateHttpClient("gateway", "http");
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        (await admin.PostAsJsonAsync($"/admin/merchants/{merchantId}/console-users", new { operatorId, role, password })).EnsureSuccessStatusCode();
        return await SignInAsync(platform, "/console", new() { ["merchantId"] = merchantId, ["operatorId"] = operatorId, ["password"] = password });
    }

    /// <summary>Gives one of the platform's operators an operator console login through <c>/admin</c> and signs them in.</summary>
    public static async Task<ConsoleSession> PlatformUserAsync(MeshPlatformFixture platform, string operatorId, string role, string password)
    {
        using var admin = platform.App.CreateHttpClient("gateway", "http");
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        (await admin.PostAsJsonAsync("/admin/platform-operators", new { operatorId, role, password })).EnsureSuccessStatusCode();
        return await SignInAsync(platform, "/ops", new() { ["operatorId"] = operatorId, ["password"] = password });
    }

    /// <summary>A new operator of the platform with <paramref name="role"/>, added with the operator key, signed in to <c>/ops</c>.</summary>
    public static Task<ConsoleSession> PlatformOperatorAsync(MeshPlatformFixture platform, string operatorId, string role) =>
        PlatformUserAsync(platform, operatorId, role, "operator passphrase long enough");

    [GeneratedRegex(""""name="csrf" value="([^"]+)"""")]
    private static partial Regex CsrfPattern();
}
