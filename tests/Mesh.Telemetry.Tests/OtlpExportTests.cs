using System.Text;
using System.Threading.Channels;
using Mesh.Gateway.Metrics;
using Mesh.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Telemetry.Tests;

/// <summary>
/// With the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a service pushes its metrics over OTLP
/// and still answers a Prometheus scrape: both, from the services' own telemetry defaults.
/// </summary>
public sealed class OtlpExportTests
{
    private static readonly TimeSpan PushWaitMax = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task WithAnOtlpEndpoint_MetricsArePushed_AndStillScraped()
    {
        var pushes = Channel.CreateUnbounded<string>();
        await using var receiver = Host(new Dictionary<string, string?>());
        receiver.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            // OTLP protobuf carries the instruments' names as UTF-8 strings.
            await pushes.Writer.WriteAsync(Encoding.UTF8.GetString(body.ToArray()));
            return Results.Bytes([], "application/x-protobuf");
        });
        await receiver.StartAsync();

        await using var service = Host(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Address(receiver),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "100",
        }, telemetry: true);
        service.MapMeshMetrics();
        await service.StartAsync();
        service.Services.GetRequiredService<GatewayMetrics>().Paid("approved", "00", TimeSpan.FromMilliseconds(42));

        using var wait = new CancellationTokenSource(PushWaitMax);
        var pushed = false;
        while (!pushed)
        {
            pushed = (await pushes.Reader.ReadAsync(wait.Token)).Contains("mesh.gateway.payment.duration", StringComparison.Ordinal);
        }
        using var http = new HttpClient { BaseAddress = new Uri(Address(service)) };
        var scraped = await http.GetStringAsync(MetricsEndpoint.Path);
        Assert.Contains("mesh_gateway_payment_duration_seconds_count", scraped, StringComparison.Ordinal);
    }

    private static WebApplication Host(Dictionary<string, string?> settings, bool telemetry = false)
    {
        var builder = WebApplication.CreateBuilder();
        // The services' appsettings.json files, copied next to the tests, name their ports: none of them here.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (telemetry)
        {
            builder.ConfigureMeshTelemetry();
            builder.Services.AddSingleton<GatewayMetrics>();
        }
        return builder.Build();
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
}
