using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Localization;

namespace Mesh.ServiceDefaults.Localization;

/// <summary>
/// The page language a browser asks for, for sites in English and Simplified Chinese (<c>zh-CN</c>): its
/// <c>Accept-Language</c> tags in order of preference (quality, then order), the first that names one of
/// them winning. Every tag for Chinese in the simplified script selects <c>zh-CN</c>: <c>zh</c>, <c>zh-CN</c>,
/// <c>zh-SG</c>, <c>zh-Hans</c>, <c>zh-Hans-*</c>. A tag for the traditional script (<c>zh-TW</c>,
/// <c>zh-HK</c>, <c>zh-MO</c>, <c>zh-Hant*</c>) names no language these sites have, so the next tag
/// decides, and English when none does. ASP.NET Core's own header provider matches only a tag or its
/// parents, so <c>zh</c> and <c>zh-Hans</c> would get English.
/// </summary>
public sealed class BrowserLanguageProvider(string english, string simplifiedChinese) : RequestCultureProvider
{
    /// <summary>The most tags read from one header; a browser sends a handful.</summary>
    public const int TagsMax = 16;

    private static readonly string[] TraditionalRegions = ["TW", "HK", "MO"];

    public override Task<ProviderCultureResult?> DetermineProviderCultureResult(HttpContext httpContext)
    {
        var tags = httpContext.Request.GetTypedHeaders().AcceptLanguage;
        var culture = tags.Take(TagsMax)
            .Select((tag, index) => (Tag: tag.Value.Value, Quality: tag.Quality ?? 1, index))
            .Where(t => t.Quality > 0 && t.Tag is not null)
            .OrderByDescending(t => t.Quality).ThenBy(t => t.index)
            .Select(t => Culture(t.Tag!))
            .FirstOrDefault(c => c is not null);
        return Task.FromResult(culture is null ? null : new ProviderCultureResult(culture));
    }

    /// <summary>The site's culture <paramref name="tag"/> names, or null when it names neither.</summary>
    public string? Culture(string tag)
    {
        var parts = tag.Split('-');
        if (parts[0].Equals("en", StringComparison.OrdinalIgnoreCase))
        {
            return english;
        }
        if (!parts[0].Equals("zh", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var traditional = parts.Skip(1).Any(p => p.Equals("Hant", StringComparison.OrdinalIgnoreCase)
            || TraditionalRegions.Contains(p, StringComparer.OrdinalIgnoreCase));
        var simplified = parts.Skip(1).Any(p => p.Equals("Hans", StringComparison.OrdinalIgnoreCase));
        return simplified || !traditional ? simplifiedChinese : null;
    }
}
