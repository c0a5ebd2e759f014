using Mesh.Gateway.Merchants;
using Mesh.Gateway.Orders;

namespace Mesh.Gateway.Tests;

/// <summary>
/// NetPay's BgRetUrl and PageRetUrl are not covered by the merchant's ChkValue: whoever carries the
/// form could point them anywhere. They must lie under an address the merchant registered; on the
/// https notification protocol no address is http.
/// </summary>
public sealed class ReturnUrlTests
{
    private static Merchant MerchantWith(string protocol = "plain", params string[] prefixes) =>
        new("808080000000001", "Tea", "active", MerchantKey.Rsa, 1024, "", false, "deferred", protocol, 6_000, 100, "1202020209000012345",
            DateTimeOffset.UnixEpoch, prefixes);

    private static OrderRequest NetPayOrder(string? bgRetUrl, string? pageRetUrl = null) =>
        new("808080000000001", "2026112600000001", OrderProtocol.NetPay, 100, "156", "20261126", "0001", "20070129", bgRetUrl, pageRetUrl, null, "");

    [Theory]
    [InlineData("https://shop.example/netpay/notify", true)]
    [InlineData("https://shop.example/netpay/", true)]
    [InlineData("https://SHOP.example/netpay/deep/notify?x=1", true)]
    [InlineData("https://shop.example/netpayments/notify", false)] // not past a '/' of the prefix's path
    [InlineData("https://shop.example/other/notify", false)]
    [InlineData("https://shop.example/netpay/../admin", false)] // dot segments are resolved first
    [InlineData("https://shop.example/netpay/%2e%2e/admin", false)]
    [InlineData("https://shop.example/netpay%2f..%2fadmin", false)]
    [InlineData("https://shop.example.evil.test/netpay/notify", false)]
    [InlineData("https://evil.test/shop.example/netpay/notify", false)]
    [InlineData("http://shop.example/netpay/notify", false)] // another scheme
    [InlineData("https://shop.example:8443/netpay/notify", false)] // another port
    [InlineData("https://user@shop.example/netpay/notify", false)]
    public void AnAddress_IsUnderAPrefix_OnlyOnTheSameOriginAndBelowItsPath(string url, bool under) =>
        Assert.Equal(under, ReturnUrlPrefixes.IsUnder(url, "https://shop.example/netpay/"));

    [Fact]
    public void APrefixWithoutATrailingSlash_CoversItselfAndWhatIsBelowIt_NotItsNamesakes()
    {
        Assert.True(ReturnUrlPrefixes.IsUnder("https://shop.example/notify", "https://shop.example/notify"));
        Assert.True(ReturnUrlPrefixes.IsUnder("https://shop.example/notify/paid", "https://shop.example/notify"));
        Assert.False(ReturnUrlPrefixes.IsUnder("https://shop.example/notify-evil", "https://shop.example/notify"));
    }

    [Theory]
    [InlineData("BgRetUrl", "https://attacker.example/steal", null)]
    [InlineData("PageRetUrl", "https://shop.example/netpay/notify", "https://attacker.example/phish")]
    public void ANetPayOrder_PointingOutsideTheRegisteredPrefixes_IsAProblemNamingTheField(string field, string bgRetUrl, string? pageRetUrl)
    {
        var problems = new Dictionary<string, string[]>();

        OrderRules.CheckAddresses(NetPayOrder(bgRetUrl, pageRetUrl), MerchantWith("plain", "https://shop.example/netpay/"), problems, netPayNames: true);

        Assert.Equal([field], problems.Keys);
    }

    [Fact]
    public void ANetPayOrder_UnderTheRegisteredPrefixes_HasNoProblem()
    {
        var problems = new Dictionary<string, string[]>();

        OrderRules.CheckAddresses(NetPayOrder("https://shop.example/netpay/notify", "https://shop.example/netpay/return"),
            MerchantWith("plain", "https://shop.example/netpay/"), problems, netPayNames: true);

        Assert.Empty(problems);
    }

    [Fact]
    public void AMerchantThatRegisteredNoPrefix_IsSentNowhere_TheSafeDefault()
    {
        var problems = new Dictionary<string, string[]>();

        OrderRules.CheckAddresses(NetPayOrder("https://shop.example/netpay/notify"), MerchantWith("plain"), problems, netPayNames: true);
        OrderRules.CheckAddresses(NetPayOrder(null), MerchantWith("plain"), problems, netPayNames: true);

        Assert.Contains("registered no return address prefixes", Assert.Single(problems["BgRetUrl"]), StringComparison.Ordinal);
    }

    [Fact]
    public void OnTheHttpsProtocol_AnHttpAddress_IsAProblem_AtOrderTime_ForBothDoors()
    {
        var netPay = new Dictionary<string, string[]>();
        var v1 = new Dictionary<string, string[]>();
        var merchant = MerchantWith("https", "https://shop.example/");

        OrderRules.CheckAddresses(NetPayOrder("http://shop.example/notify"), merchant, netPay, netPayNames: true);
        OrderRules.CheckAddresses(NetPayOrder("http://shop.example/notify") with { Protocol = OrderProtocol.V1 }, merchant, v1, netPayNames: false);

        Assert.Contains("https", Assert.Single(netPay["BgRetUrl"]), StringComparison.Ordinal);
        Assert.Contains("https", Assert.Single(v1["backUrl"]), StringComparison.Ordinal);
    }

    [Fact]
    public void OnTheHttpsProtocol_AnHttpPrefix_IsRefusedAtOnboarding()
    {
        var application = new MerchantApplication("808080000000001", "Tea", null, "deferred", "https", 6_000, 100, "1202020209000012345",
            ReturnUrlPrefixes: ["https://shop.example/", "http://shop.example/"]);

        Assert.Contains("https addresses only", Assert.Single(application.Problems()["returnUrlPrefixes"]).English(), StringComparison.Ordinal);
        Assert.DoesNotContain("returnUrlPrefixes", (application with { NotificationProtocol = "plain" }).Problems().Keys);
    }

    [Theory]
    [InlineData("shop.example/netpay/")]
    [InlineData("ftp://shop.example/")]
    [InlineData("https://shop.example/netpay/?next=evil")]
    [InlineData("https://user:pw@shop.example/")]
    public void APrefixThatIsNotAPlainAddress_IsRefusedAtOnboarding(string prefix)
    {
        var application = new MerchantApplication("808080000000001", "Tea", null, "deferred", "plain", 6_000, 100, "1202020209000012345",
            ReturnUrlPrefixes: [prefix]);

        Assert.Contains("returnUrlPrefixes", application.Problems().Keys);
    }
}
