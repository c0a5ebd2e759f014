using System.Net;
using Mesh.Gateway.Notifications;

namespace Mesh.Gateway.Tests;

public sealed class OutboundAddressPolicyTests
{
    [Theory]
    [InlineData("203.0.113.10", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("10.0.0.5", false)]
    [InlineData("172.16.3.4", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)] // cloud metadata
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:10.0.0.5", false)] // a private IPv4 address in IPv6 clothing
    [InlineData("0.0.0.0", false)]
    public void PublicAddressesAreReached_PrivateLinkLocalLoopbackAndMetadataAreNot(string address, bool allowed) =>
        Assert.Equal(allowed, OutboundAddressPolicy.IsAllowedAddress(IPAddress.Parse(address), [], allowLoopback: false));

    [Fact]
    public void AMerchantsAllowList_OpensItsOwnPrivateNetwork_AndNothingElse()
    {
        IPNetwork[] allowList = [IPNetwork.Parse("10.20.0.0/16")];

        Assert.True(OutboundAddressPolicy.IsAllowedAddress(IPAddress.Parse("10.20.30.40"), allowList, allowLoopback: false));
        Assert.False(OutboundAddressPolicy.IsAllowedAddress(IPAddress.Parse("10.21.0.1"), allowList, allowLoopback: false));
    }

    [Fact]
    public void Loopback_IsReachedOnlyWhenAllowed_AsInDevelopment() =>
        Assert.True(OutboundAddressPolicy.IsAllowedAddress(IPAddress.Loopback, [], allowLoopback: true));

    [Theory]
    [InlineData("https://shop.example/notify", true)]
    [InlineData("http://shop.example:8080/notify", true)]
    [InlineData("ftp://shop.example/notify", false)]
    [InlineData("https://user:pass@shop.example/notify", false)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("/relative", false)]
    public void OnlyAbsoluteHttpAddresses_WithoutCredentials(string url, bool allowed) =>
        Assert.Equal(allowed, OutboundAddressPolicy.IsAllowedUrl(url));
}
