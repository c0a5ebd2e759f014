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

        var funds = Words.Label("Funds", "sent");
        var unknown = Words.Label("Funds", "lost-in-the-post");
        Assert.Equal(("sent", "lost-in-the-post"), (funds.English(), unknown.English()));
        using (new UiCulture(PageCultures.Chinese))
        {
            Assert.Equal(("已发送", "lost-in-the-post"), (merchant.Say(funds), merchant.Say(unknown)));
        }
    }

    [Theory]
    [InlineData("00")]
    [InlineData("05")]
    [InlineData("13")]
    [InlineData("14")]
    [InlineData("15")]
    [InlineData("33")]
    [InlineData("41")]
    [InlineData("51")]
    [InlineData("55")]
    [InlineData("57")]
    [InlineData("61")]
    [InlineData("75")]
    [InlineData("1A")]
    [InlineData("63")]
    [InlineData("N7")]
    [InlineData("96")]
    [InlineData("12")]
    public void WhatABanksAnswerTellsAConsumer_IsInChinese(string responseCode)
    {
        var payment = Factory.Create(typeof(PaymentText));
        var words = Acquiring.ConsumerMessages.Of(responseCode);

        using var _ = new UiCulture(PageCultures.Chinese);
        var said = payment.Say(words);

        Assert.Equal(Acquiring.ConsumerMessages.For(responseCode), words.English());
        Assert.NotEqual(words.English(), said);
        Assert.Contains(responseCode == "12" ? "12" : "", said, StringComparison.Ordinal);
    }

    [Fact]
    public void WhatARiskRefusalTellsAConsumer_IsInChinese()
    {
        var payment = Factory.Create(typeof(PaymentText));
        using var _ = new UiCulture(PageCultures.Chinese);

        Assert.All(Risk.RiskCodes.All.Append(Risk.RiskCodes.Declined), code =>
            Assert.False(payment[Risk.RiskCodes.ConsumerMessage(code)].ResourceNotFound, code));
    }

    public static TheoryData<string> OrderMessages() => new(
        Holds.HoldDesk.AuthorizedMessage, Holds.HoldDesk.CapturedMessage, Holds.HoldDesk.ReleasedMessage, Holds.HoldDesk.ExpiredMessage,
        Orders.OrderLifetime.ExpiredMessage, Orders.OrderLifetime.ClosedByMerchantMessage, Orders.OrderLifetime.VoidedMessage,
        Refunds.RefundDesk.ReversedMessage, Payments.CardPayments.TooManyCodesMessage);

    [Theory]
    [MemberData(nameof(OrderMessages))]
    public void WhatAnOrderTellsAConsumer_IsInChinese(string message)
    {
        var payment = Factory.Create(typeof(PaymentText));
        using var _ = new UiCulture(PageCultures.Chinese);

        Assert.False(payment[message].ResourceNotFound, message);
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
