using System.Net;
using Mesh.Iso8583.Channel;
using Mesh.Iso8583.Packaging;
using Mesh.IssuerSim.Options;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Mesh.IssuerSim.Processing;

/// <summary>The bank's ISO 8583 listener, where the switch connects: mutual TLS, and no peer but the switch.</summary>
public sealed class IsoListener(IOptions<Iso8583ListenerOptions> options, IsoPackager packager, IssuerProcessor processor, TimeProvider time,
    ILogger<IsoListener> logger)
    : BackgroundService
{
    private IsoServer? _server;

    public bool IsListening => _server is { IsListening: true };

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(options.Value.BindAddress), options.Value.Port);
        _server = new IsoServer(packager, processor.HandleAsync, options.Value.Tls.Load(time), options.Value.Peer, Log);
        return _server.RunAsync(endpoint, stoppingToken);
    }

    private void Log(string what, Exception? ex)
    {
        if (ex is null)
        {
            logger.LogInformation("ISO 8583 listener: {What}", what);
        }
        else
        {
            logger.LogWarning(ex, "ISO 8583 listener: {What}", what);
        }
    }
}

public sealed class IsoListenerHealthCheck(IsoListener listener) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(listener.IsListening ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("ISO 8583 listener is not running"));
}
