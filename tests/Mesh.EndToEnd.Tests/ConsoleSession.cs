using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>A signed-in console browser, without the browser: its cookie header and the pages' CSRF token.</summary>
public sealed partial record ConsoleSession(string? Cookie, string? Csrf)
{
    public static readonly ConsoleSession None = new(null, null);

    /// <summary>Signs in through the console's own form (<c>/console</c> or <c>/ops</c>, with its sign-in token cookie and field).</summary>
    public static async Task<ConsoleSession> SignInAsync(MeshPlatformFixture platform, string console, Dictionary<string, string> form)
    {
        using var http = new HttpClient(new HttpClientHandler
        {
            AllowAutoRedirect = false,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        })
        { BaseAddress = platform.App.GetEndpoint("gateway", "https") };
        var login = await http.GetStringAsync(console + "/login");
        form["csrf"] = CsrfPattern().Match(login).Groups[1].Value;
        using var signedIn = await http.PostAsync(console + "/login", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var cookie = string.Join("; ", signedIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Where(c => !c.EndsWith('=')));
        using var home = new HttpRequestMessage(HttpMethod.Get, console);
        home.Headers.Add("Cookie", cookie);
        using var homePage = await http.SendAsync(home);
        var csrf = CsrfPattern().Match(await homePage.Content.ReadAsStringAsync()).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(csrf), $"no CSRF token on {console}");
        return new ConsoleSession(cookie, csrf);
    }

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
