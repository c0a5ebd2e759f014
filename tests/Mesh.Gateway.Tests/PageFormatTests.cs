using Mesh.Gateway.Localization;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Gateway.Tests;

/// <summary>Amounts exactly from minor units, and China time, in each page language's pattern from the resources.</summary>
public sealed class PageFormatTests
{
    private static readonly DateTimeOffset LateEveningUtc = new(2026, 12, 5, 16, 30, 0, TimeSpan.Zero);

    private static PageFormat Format() =>
        new(new StringLocalizer<SharedText>(new ResourceManagerStringLocalizerFactory(Microsoft.Extensions.Options.Options.Create(new LocalizationOptions()), NullLoggerFactory.Instance)),
            new FakeTimeProvider(LateEveningUtc));

    [Theory]
    [InlineData(0L, "0.00")]
    [InlineData(5L, "0.05")]
    [InlineData(123_456L, "1,234.56")]
    [InlineData(-150L, "-1.50")]
    [InlineData(long.MaxValue, "92,233,720,368,547,758.07")]
    [InlineData(long.MinValue, "-92,233,720,368,547,758.08")]
    public void Digits_AreExact_ForEveryLong(long amountMinor, string digits) => Assert.Equal(digits, PageFormat.Digits(amountMinor));

    [Theory]
    [InlineData(PageCultures.English, "156", "¥1,234.56")]
    [InlineData(PageCultures.Chinese, "156", "¥1,234.56")]
    [InlineData(PageCultures.English, "840", "840 1,234.56")]
    public void Money_ShowsTheYuanSign_InBothLanguages(string culture, string currency, string text)
    {
        using var _ = new UiCulture(culture);
        Assert.Equal(text, Format().Money(123_456, currency));
    }

    [Theory]
    [InlineData(PageCultures.English, "2026-12-06 00:30 China time")]
    [InlineData(PageCultures.Chinese, "2026年12月6日 00:30（北京时间）")]
    public void ChinaTime_IsUtcPlusEight_InTheLanguagesPattern(string culture, string text)
    {
        using var _ = new UiCulture(culture);
        Assert.Equal(text, Format().ChinaTimeNow());
    }
}
