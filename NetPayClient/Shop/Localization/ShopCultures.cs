using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Mesh.ServiceDefaults.Localization;
using Microsoft.AspNetCore.Localization;

namespace Mesh.Shop.Localization;

/// <summary>
/// The shop's languages: Simplified Chinese for a browser that asks for it, English otherwise, and the
/// choice made on the language switch remembered in ASP.NET Core's culture cookie, which wins over the
/// browser's <c>Accept-Language</c>. The switch sends the browser back only to a page of this shop.
/// </summary>
public static class ShopCultures
{
    public const string English = "en";
    public const string Chinese = "zh-CN";
    public const string SwitchPath = "/culture";
    public const int ReturnUrlCharsMax = 2048;

    public static readonly IReadOnlyList<string> Supported = [English, Chinese];

    public static IServiceCollection AddShopLocalization(this IServiceCollection services)
    {
        services.AddWebEncoders(o => o.TextEncoderSettings = new TextEncoderSettings(UnicodeRanges.All));
        services.AddLocalization();
        services.AddSingleton<ShopFormat>();
        services.Configure<RequestLocalizationOptions>(options =>
        {
            var cultures = Supported.Select(CultureInfo.GetCultureInfo).ToList();
            options.DefaultRequestCulture = new RequestCulture(English);
            options.SupportedCultures = cultures;
            options.SupportedUICultures = cultures;
            options.RequestCultureProviders = [new CookieRequestCultureProvider(), new BrowserLanguageProvider(English, Chinese)];
        });
        return services;
    }

    public static string SwitchUrl(string culture, string returnUrl) =>
        $"{SwitchPath}?c={Uri.EscapeDataString(culture)}&r={Uri.EscapeDataString(returnUrl)}";

    public static bool IsLocalUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.Length <= ReturnUrlCharsMax && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && !url.Any(char.IsControl);

    /// <summary><c>GET /culture?c=zh-CN&amp;r=/cart</c>: keeps the choice and goes back; another site's address or an unknown language is a 400 problem.</summary>
    public static IEndpointRouteBuilder MapCultureSwitch(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SwitchPath, (HttpContext context, string? c, string? r) =>
        {
            var culture = Supported.FirstOrDefault(s => string.Equals(s, c, StringComparison.OrdinalIgnoreCase));
            if (culture is null || !IsLocalUrl(r))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The language switch was not understood",
                    detail: $"c is one of {string.Join(", ", Supported)}; r is a path on this shop");
            }
            context.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName, CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
                new CookieOptions { HttpOnly = true, Secure = context.Request.IsHttps, SameSite = SameSiteMode.Lax, Path = "/", MaxAge = TimeSpan.FromDays(365) });
            return Results.Redirect(r!);
        });
        return endpoints;
    }
}
