using Mesh.Gateway.Localization;
using Mesh.Gateway.Risk;

namespace Mesh.Gateway.Tests;

public sealed class RiskRulesTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7/32")]
    [InlineData("203.0.113.0/24", "203.0.113.0/24")]
    [InlineData(" 10.0.0.0/8 ", "10.0.0.0/8")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("::1", "::1/128")]
    public void Network_AddressesAndPrefixes_AreReadInCanonicalForm(string typed, string canonical)
    {
        var problems = new List<Words>();
        Assert.Equal(canonical, RiskRules.Network(typed, problems));
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("")]
    [InlineData("300.1.1.1")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.1/8")]
    [InlineData("2001:db8::/129")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("example.com")]
    [InlineData("fe80::1%eth0")]
    public void Network_Malformed_IsRefusedWithAProblem(string typed)
    {
        var problems = new List<Words>();
        Assert.Null(RiskRules.Network(typed, problems));
        Assert.Single(problems);
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("0")]
    [InlineData("1e3")]
    [InlineData("10000000000001")]
    [InlineData("99999999999999999999")]
    [InlineData("12.50")]
    public void Limit_NegativeZeroOrAbsurd_IsRefused(string typed)
    {
        var problems = new List<Words>();
        Assert.Null(RiskRules.Limit("the cap", typed, problems));
        Assert.Single(problems);
    }

    [Fact]
    public void Limit_BlankIsNoLimit_DigitsAreMinorUnits()
    {
        var problems = new List<Words>();
        Assert.Null(RiskRules.Limit("the cap", " ", problems));
        Assert.Equal(5_000L, RiskRules.Limit("the cap", "5000", problems));
        Assert.Empty(problems);
    }

    [Fact]
    public void MerchantLimits_LooserThanTheCap_AreRefusedSayingSo_TighterOnesAndNoneAreAccepted()
    {
        var caps = new MerchantLimits("777290058110097", "156", 5_000, 100_000, null, null, null);
        var looser = new List<Words>();
        var tighter = new List<Words>();

        RiskRules.NotLooserThanCaps(caps, 6_000, 200_000, looser);
        RiskRules.NotLooserThanCaps(caps, 3_000, null, tighter);

        Assert.Equal(["the limit per payment may not be looser than the platform's cap of 5000 minor units",
            "the limit per day may not be looser than the platform's cap of 100000 minor units"], looser.Select(w => w.English()));
        Assert.Empty(tighter);
    }

    [Fact]
    public void MerchantLimits_TheTighterOfCapAndOwnLimitApplies()
    {
        var limits = new MerchantLimits("777290058110097", "156", 5_000, null, 3_000, 50_000, null);

        Assert.Equal(3_000L, limits.PerPaymentMinor);
        Assert.Equal(50_000L, limits.PerDayMinor);
        Assert.Null(limits.RefusesPayment(3_000));
        Assert.Equal(RiskCodes.LimitPerPayment, limits.RefusesPayment(3_001));
        Assert.Null(MerchantLimits.None("777290058110097", "156").RefusesPayment(long.MaxValue));
    }

    [Theory]
    [InlineData("-1", "0", "60")]
    [InlineData("10", "0", "0")]
    [InlineData("10", "abc", "60")]
    [InlineData("10001", "0", "60")]
    [InlineData("10", "0", "10081")]
    public void Velocity_OutOfBounds_IsRefused(string attempts, string amount, string window)
    {
        var problems = new List<Words>();
        Assert.Null(RiskRules.Velocity(attempts, amount, window, problems));
        Assert.NotEmpty(problems);
    }

    [Fact]
    public void Velocity_WindowsAreFixed_AlignedToTheEpoch()
    {
        var settings = new VelocitySettings(3, 0, 60);
        var at = new DateTimeOffset(2026, 12, 5, 13, 47, 12, TimeSpan.Zero);

        Assert.Equal(new DateTimeOffset(2026, 12, 5, 13, 0, 0, TimeSpan.Zero), settings.WindowStart(at));
    }

    [Theory]
    [InlineData(RiskCodes.LimitPerPayment, RiskCodes.LimitPerPayment)]
    [InlineData(RiskCodes.LimitPerDay, RiskCodes.LimitPerDay)]
    [InlineData(RiskCodes.Velocity, RiskCodes.Declined)]
    [InlineData(RiskCodes.BlockedCard, RiskCodes.Declined)]
    [InlineData(RiskCodes.BlockedNetwork, RiskCodes.Declined)]
    public void TheConsumer_SeesTheLimitsCodes_ButNoListOrCounter(string code, string shown)
    {
        Assert.Equal(shown, RiskCodes.ForConsumer(code));
        Assert.DoesNotContain("block", RiskCodes.ConsumerMessage(code), StringComparison.OrdinalIgnoreCase);
    }
}
