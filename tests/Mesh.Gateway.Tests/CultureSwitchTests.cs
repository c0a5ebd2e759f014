using System.Net;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Pages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Gateway.Tests;

/// <summary>
/// The language switch and the request's language, hosted in-process: the browser's Accept-Language
/// chooses until a person chooses on the switch, whose cookie then wins; the switch sends the browser
/// only back to this site, and refuses anything else with a problem and no cookie.
/// </summary>
public sealed class CultureSwitchTests : IAsyncLifetime
{
    private WebApplication? _app;

    private HttpClient Client => _app!.GetTestClient();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.AddPageLocalization();
        builder.Services.AddRazorComponents();
        _app = builder.Build();
        _app.UsePageLocalization();
        _app.MapCultureSwitch();
        _app.MapGet("/amount", (PageFormat format) => format.ChinaTime(new DateTimeOffset(2026, 12, 5, 16, 30, 0, TimeSpan.Zero)));
        _app.MapGet("/switch", () => SecurePage.Of<LanguageSwitch>(new Dictionary<string, object?>()));
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(null, "2026-12-06 00:30 China time", "en")]
    [InlineData("zh-CN,zh;q=0.9,en;q=0.8", "2026年12月6日 00:30（北京时间）", "zh-CN")]
    [InlineData("fr-FR,fr;q=0.9", "2026-12-06 00:30 China time", "en")]
    [InlineData("zh", "2026年12月6日 00:30（北京时间）", "zh-CN")]
    [InlineData("zh-Hans-CN,en;q=0.5", "2026年12月6日 00:30（北京时间）", "zh-CN")]
    [InlineData("zh-SG", "2026年12月6日 00:30（北京时间）", "zh-CN")]
    [InlineData("en;q=0.4,zh-Hans;q=0.8", "2026年12月6日 00:30（北京时间）", "zh-CN")]
    [InlineData("zh-TW,en;q=0.7", "2026-12-06 00:30 China time", "en")]
    [InlineData("zh-Hant-HK", "2026-12-06 00:30 China time", "en")]
    [InlineData("zh-HK,zh-CN;q=0.5", "2026年12月6日 00:30（北京时间）", "zh-CN")]
    [InlineData("en-GB,zh-CN;q=0.9", "2026-12-06 00:30 China time", "en")]
    [InlineData("zh-CN;q=0,en", "2026-12-06 00:30 China time", "en")]
    public async Task AcceptLanguage_ChoosesChinese_OrElseEnglish(string? acceptLanguage, string text, string contentLanguage)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/amount");
        if (acceptLanguage is not null)
        {
            request.Headers.Add("Accept-Language", acceptLanguage);
        }
        using var response = await Client.SendAsync(request);

        Assert.Equal(text, await response.Content.ReadAsStringAsync());
        Assert.Equal(contentLanguage, Assert.Single(response.Content.Headers.ContentLanguage));
    }

    [Fact]
    public async Task TheSwitch_KeepsTheChoiceInAHostCookie_AndItWinsOverAcceptLanguage()
    {
        using var switched = await Client.GetAsync("/culture?c=en&r=%2Fpay%2Fs%2Fabc%3Fx%3D1");

        Assert.Equal(HttpStatusCode.Redirect, switched.StatusCode);
        Assert.Equal("/pay/s/abc?x=1", switched.Headers.Location?.OriginalString);
        var cookie = Assert.Single(switched.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"{PageCultures.CookieName}=", cookie, StringComparison.Ordinal);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/;", cookie + ";", StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain=", cookie, StringComparison.OrdinalIgnoreCase);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/amount");
        request.Headers.Add("Accept-Language", "zh-CN");
        request.Headers.Add("Cookie", cookie.Split(';')[0]);
        using var page = await Client.SendAsync(request);
        Assert.Equal("2026-12-06 00:30 China time", await page.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("https://evil.test/")]
    [InlineData("//evil.test/pay")]
    [InlineData("/\\evil.test/pay")]
    [InlineData("http:/evil.test")]
    [InlineData("evil.test")]
    [InlineData("")]
    [InlineData("/pay\r\nLocation: https://evil.test/")]
    public async Task TheSwitch_RefusesToSendTheBrowserOffTheSite_AndSetsNothing(string returnUrl)
    {
        using var response = await Client.GetAsync($"/culture?c=zh-CN&r={Uri.EscapeDataString(returnUrl)}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Headers.Location);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task TheSwitch_RefusesALanguageItDoesNotHave_AndSetsNothing()
    {
        using var response = await Client.GetAsync("/culture?c=fr-FR&r=%2Fpay");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"c\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task ASecurePage_IsRenderedOnTheServer_WithThePlatformsHeaders_AndTheSwitchMarksTheLanguageInUse()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/switch?x=1");
        request.Headers.Add("Accept-Language", "zh-CN");
        using var response = await Client.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("default-src 'none'; script-src 'self';", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Contains("<nav class=\"language\" aria-label=\"语言\">", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/culture?c=en&amp;r=%2Fswitch%3Fx%3D1\"", html, StringComparison.Ordinal);
        Assert.Matches("<a id=\"language-zh-CN\"[^>]*aria-current=\"true\"", html);
        Assert.DoesNotMatch("<a id=\"language-en\"[^>]*aria-current", html);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }
}
