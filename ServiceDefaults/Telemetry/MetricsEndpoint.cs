using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Mesh.ServiceDefaults.Telemetry;

/// <summary>
/// <c>GET /metrics</c>: the service's meters in the Prometheus text format, for a scraper past the
/// Aspire dashboard (which gets the same figures over OTLP). It tells who pays how much and how
/// often, so it answers only to the networks in <c>Telemetry:MetricsNetworks</c> (CIDR; loopback
/// when unset); anyone else gets a 404, as if it were not there.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";
    public const string NetworksKey = "Telemetry:MetricsNetworks";

    public static WebApplication MapMeshMetrics(this WebApplication app)
    {
        var networks = Networks(app.Configuration);
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
            context.Request.Path == Path && context.Connection.RemoteIpAddress is { } caller && IsAllowed(caller, networks));
        return app;
    }

    public static bool IsAllowed(IPAddress caller, IReadOnlyList<IPNetwork> networks)
    {
        var address = caller.IsIPv4MappedToIPv6 ? caller.MapToIPv4() : caller;
        return networks.Count == 0 ? IPAddress.IsLoopback(address) : networks.Any(n => n.Contains(address));
    }

    private static IPNetwork[] Networks(IConfiguration configuration) =>
        configuration.GetSection(NetworksKey).Get<string[]>() is { } listed
            ? [.. listed.Select(n => IPNetwork.TryParse(n, out var network)
                ? network
                : throw new InvalidOperationException($"{NetworksKey}: '{n}' is not a network in CIDR form (10.0.0.0/8)"))]
            : [];
}
