using System.Globalization;
using System.Text.RegularExpressions;
using Mesh.Gateway.Localization;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Gateway.Tests;

/// <summary>Every word of the pages has its Chinese, with the same values in it, and a console says the words both consoles share.</summary>
public sealed partial class PageWordsTests
{
    private static readonly IStringLocalizerFactory Factory =
        new ResourceManagerStringLocalizerFactory(Microsoft.Extensions.Options.Options.Create(new LocalizationOptions()), NullLoggerFactory.Instance);

    public static TheoryData<string> Resources() =>
        new(nameof(SharedText), nameof(PaymentText), nameof(ConsoleText), nameof(MerchantConsoleText), nameof(OperatorConsoleText));

    [Theory]
    [MemberData(nameof(Resources))]
    public void EveryEnglishEntry_HasChinese_WithTheSamePlaceholders(string resource)
    {
        var type = typeof(SharedText).Assembly.GetType($"{typeof(SharedText).Namespace}.{resource}")!;
        var english = Entries(type, CultureInfo.InvariantCulture);
        var chinese = Entries(type, CultureInfo.GetCultureInfo(PageCultures.Chinese));

        Assert.NotEmpty(english);
        Assert.Empty(english.Keys.Except(chinese.Keys));
        Assert.Empty(chinese.Keys.Except(english.Keys));
        Assert.All(english, e =>
        {
            Assert.False(string.IsNullOrWhiteSpace(chinese[e.Key]), e.Key);
            Assert.True(Placeholders(e.Value).SetEquals(Placeholders(chinese[e.Key])), $"{e.Key}: \"{e.Value}\" and \"{chinese[e.Key]}\" take different values");
        });
    }

    [Fact]
    public void AConsole_SaysItsOwnWords_ThenTheSharedOnes_ThenTheEnglish()
    {
        var merchant = new ConsoleLocalizer<MerchantConsoleText>(Factory);
        var words = Words.List([new Words("Home"), new Words("Busy"), new Words("{0} is not a word", "xyz")]);

        using (new UiCulture(PageCultures.Chinese))
        {
            Assert.Equal("首页；控制台繁忙，请稍后再试。；xyz is not a word", merchant.Say(words));
            Assert.Equal("只读", merchant.Label("Role", "viewer"));
            Assert.Equal("an-unknown-role", merchant.Label("Role", "an-unknown-role"));
        }
        using (new UiCulture(PageCultures.English))
        {
            Assert.Equal("Home; The console is busy; please try again in a moment.; xyz is not a word", merchant.Say(words));
        }
        Assert.Equal("Home; Busy; xyz is not a word", words.English());
    }

    private static Dictionary<string, string> Entries(Type resource, CultureInfo culture)
    {
        using var _ = new UiCulture(culture.Name);
        return Factory.Create(resource).GetAllStrings(includeParentCultures: false).ToDictionary(s => s.Name, s => s.Value, StringComparer.Ordinal);
    }

    private static HashSet<string> Placeholders(string text) => [.. Placeholder().Matches(text).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"\{(\d+)[^}]*\}")]
    private static partial Regex Placeholder();
}
