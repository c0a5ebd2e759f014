using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Mesh.Gateway.Metrics;
using Mesh.Hsm.Grpc;
using Mesh.ServiceDefaults.Access;
using Mesh.ServiceDefaults.Telemetry;
using Mesh.Settlement.Metrics;
using Mesh.Switch.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Telemetry.Tests;

/// <summary>
/// What the services' <c>/metrics</c> shows: each service's meter (the gateway's, the switch's,
/// the Hsm's, the ledger's and the callers' access refusals), registered as the services register
/// them, with the services' own telemetry defaults, each instrument given one measurement, and
/// scraped once over HTTP: the names Prometheus stores, as the exporter renders them.
/// </summary>
public sealed partial class ServiceMetrics : IAsyncLifetime
{
    private WebApplication? _app;

    public string Text { get; private set; } = "";

    /// <summary>Every metric name on the page (histograms' _bucket, _sum and _count included).</summary>
    public IReadOnlySet<string> Names { get; private set; } = new HashSet<string>();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        // The services' appsettings.json files, copied next to the tests, name their ports: none of them here.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.ConfigureMeshTelemetry();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<HsmMetrics>();
        builder.Services.AddSingleton<LedgerMetrics>();
        builder.Services.AddSingleton<MeshAccessMetrics>();
        builder.Services.AddSingleton(sp => new SwitchMetrics(sp.GetRequiredService<IMeterFactory>(), TimeProvider.System,
            () => [new LinkState("issuer-icbc", SignedOn: true, SignedOffByOperator: false), new LinkState("issuer-ccb", SignedOn: false, SignedOffByOperator: true)]));
        _app = builder.Build();
        _app.MapMeshMetrics();
        await _app.StartAsync();

        Measure(_app.Services);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        Text = await http.GetStringAsync(MetricsEndpoint.Path);
        Names = SampleName().Matches(Text).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private static void Measure(IServiceProvider services)
    {
        var gateway = services.GetRequiredService<GatewayMetrics>();
        gateway.OrderCreated("v1");
        gateway.Paid("approved", "00", TimeSpan.FromMilliseconds(42));
        gateway.NotificationAttempt("delivered");
        gateway.Backlog(1, 2.5);
        var cardSwitch = services.GetRequiredService<SwitchMetrics>();
        cardSwitch.Answered("issuer-icbc", "0200", "00");
        cardSwitch.IssuerExchange("issuer-icbc", "answered", TimeSpan.FromMilliseconds(3));
        cardSwitch.Backlog(1, 4);
        cardSwitch.ZoneKeyChange("issuer-icbc", "ZAK", "changed");
        var hsm = services.GetRequiredService<HsmMetrics>();
        hsm.Ran("VerifyPin", "issuer-icbc", "done", TimeSpan.FromMicroseconds(40));
        hsm.PinFailed("issuer-icbc", "VerifyPin", "01");
        var ledger = services.GetRequiredService<LedgerMetrics>();
        ledger.Posted("purchase", "156", 2, 321);
        ledger.Duplicates(1);
        ledger.Verified(0, 0);
        ledger.CloseAttempted("closed");
        ledger.CloseOverdue(TimeSpan.FromMinutes(5));
        ledger.Transfers("sent", 2);
        ledger.Report("applied");
        services.GetRequiredService<MeshAccessMetrics>().Refused("unknown", "/mesh.Switch/Authorize", MeshAccessMetrics.Unauthenticated);
    }

    /// <summary>A sample line's metric name (comments skipped).</summary>
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", RegexOptions.Multiline)]
    private static partial Regex SampleName();
}
