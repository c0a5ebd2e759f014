using System.Net;
using Mesh.ServiceDefaults.Telemetry;

namespace Mesh.Gateway.Tests;

/// <summary>Who may scrape /metrics: loopback unless networks are configured, then only those.</summary>
public sealed class MetricsEndpointTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.1.2.3", false)]
    [InlineData("203.0.113.9", false)]
    public void WithoutConfiguredNetworks_OnlyLoopbackMayScrape(string caller, bool allowed) =>
        Assert.Equal(allowed, MetricsEndpoint.IsAllowed(IPAddress.Parse(caller), []));

    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("::ffff:10.9.9.9", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("192.168.1.1", false)]
    public void WithConfiguredNetworks_OnlyThoseMayScrape(string caller, bool allowed) =>
        Assert.Equal(allowed, MetricsEndpoint.IsAllowed(IPAddress.Parse(caller), [IPNetwork.Parse("10.0.0.0/8")]));
}
