using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Mesh.ServiceDefaults.Localization;
using Microsoft.AspNetCore.Localization;
using Microsoft.Extensions.Localization;

namespace Mesh.Gateway.Localization;

/// <summary>
/// The languages of the gateway's pages: Simplified Chinese for a browser that asks for it, English
/// otherwise. A person's choice on the language switch is kept in a <c>__Host-</c> cookie (HTTPS only,
/// this host only, every path) and wins over the browser's <c>Accept-Language</c>, so the choice is
/// remembered. Under invariant globalization a culture carries only its name: words come from the
/// resources, and amounts and dates from <see cref="PageFormat"/>'s patterns, never from culture data.
/// </summary>
public static class PageCultures
{
    public const string English = "en";
    public const string Chinese = "zh-CN";
    public const string CookieName = "__Host-mesh-culture";

    /// <summary>Where the language switch points: <c>/culture?c=zh-CN&amp;r=/pay/s/...</c>.</summary>
    public const string SwitchPath = "/culture";

    /// <summary>The longest address the switch sends the browser back to; a page's own address is far shorter.</summary>
    public const int ReturnUrlCharsMax = 2048;

    public static readonly IReadOnlyList<string> Supported = [English, Chinese];

    private static readonly TimeSpan CookieLifetime = TimeSpan.FromDays(365);

    /// <summary>The localization of the pages; before <c>AddRazorComponents</c>, whose renderer takes the HTML encoder set here.</summary>
    public static IServiceCollection AddPageLocalization(this IServiceCollection services)
    {
        // Chinese is written as itself, not as numeric character references (markup is still encoded).
        services.AddWebEncoders(o => o.TextEncoderSettings = new TextEncoderSettings(UnicodeRanges.All));
        services.AddLocalization();
        // A console's words fall back on the words both consoles share; a closed registration wins over AddLocalization's open one.
        services.AddTransient<IStringLocalizer<MerchantConsoleText>, ConsoleLocalizer<MerchantConsoleText>>();
        services.AddTransient<IStringLocalizer<OperatorConsoleText>, ConsoleLocalizer<OperatorConsoleText>>();
        services.AddSingleton<PageFormat>();
        services.Configure<RequestLocalizationOptions>(options =>
        {
            var cultures = Supported.Select(CultureInfo.GetCultureInfo).ToList();
            options.DefaultRequestCulture = new RequestCulture(English);
            options.SupportedCultures = cultures;
            options.SupportedUICultures = cultures;
            options.ApplyCurrentCultureToResponseHeaders = true;
            // The person's choice first, then the browser's; no query-string culture (an address must not change the language by itself).
            options.RequestCultureProviders =
            [
                new CookieRequestCultureProvider { CookieName = CookieName },
                new BrowserLanguageProvider(English, Chinese),
            ];
        });
        return services;
    }

    public static IApplicationBuilder UsePageLocalization(this IApplicationBuilder app) => app.UseRequestLocalization();

    /// <summary>
    /// The language switch: <c>GET /culture?c={culture}&amp;r={local address}</c> keeps the choice and
    /// sends the browser back to the page it came from. A culture it does not know, or an address that
    /// is not this site's own (another host, <c>//host</c>, <c>/\host</c>), is refused with a problem
    /// and sets nothing, so the switch can never send a person elsewhere.
    /// </summary>
    public static IEndpointRouteBuilder MapCultureSwitch(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SwitchPath, Switch).ExcludeFromDescription();
        return endpoints;
    }

    /// <summary>The switch's address for <paramref name="culture"/>, back to <paramref name="returnUrl"/>.</summary>
    public static string SwitchUrl(string culture, string returnUrl) =>
        $"{SwitchPath}?c={Uri.EscapeDataString(culture)}&r={Uri.EscapeDataString(returnUrl)}";

    /// <summary>Whether <paramref name="url"/> is an address on this site: one leading slash, then no second slash or backslash, no control character.</summary>
    public static bool IsLocalUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.Length <= ReturnUrlCharsMax && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && !url.Any(char.IsControl);

    private static IResult Switch(HttpContext context, string? c, string? r)
    {
        var culture = Supported.FirstOrDefault(s => string.Equals(s, c, StringComparison.OrdinalIgnoreCase));
        if (culture is null || !IsLocalUrl(r))
        {
            var problems = new Dictionary<string, string[]>();
            if (culture is null)
            {
                problems["c"] = [$"one of {string.Join(", ", Supported)}"];
            }
            if (!IsLocalUrl(r))
            {
                problems["r"] = [$"an address on this site: a path starting with a single '/', at most {ReturnUrlCharsMax} characters"];
            }
            return TypedResults.ValidationProblem(problems, title: "The language switch was not understood");
        }
        context.Response.Cookies.Append(CookieName, CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)), new CookieOptions
        {
            Secure = true,
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Path = "/",
            MaxAge = CookieLifetime,
            IsEssential = true,
        });
        context.Response.Headers.CacheControl = "no-store";
        return Results.Redirect(r!, permanent: false, preserveMethod: false);
    }
}
