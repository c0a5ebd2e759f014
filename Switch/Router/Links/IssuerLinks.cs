using Mesh.Iso8583.Packaging;
using Mesh.Switch.Journal;
using Mesh.Switch.Metrics;
using Mesh.Switch.Options;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Mesh.Switch.Links;

/// <summary>All issuer links of the switch, kept up for the life of the process.</summary>
public sealed class IssuerLinks : BackgroundService
{
    public IssuerLinks(IOptions<SwitchOptions> options, IsoPackager packager, StanSequence stans, MessageJournal journal, TimeProvider time, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger<IssuerLink>();
        var tls = options.Value.IsoTls.Load(time);
        All = options.Value.Issuers
            .Select(issuer => new IssuerLink(issuer, options.Value, tls, packager, stans, time, logger))
            .ToList();
        foreach (var link in All)
        {
            // A late answer (its request already timed out and queued for reversal) is recorded,
            // and changes nothing: the reversal goes ahead.
            link.LateAnswer += (from, answer) =>
            {
                logger.LogWarning("Late answer {Answer} from {Issuer}: recorded; its reversal stands", answer, from.Name);
                _ = journal.RecordAsync(from.Name, answer, answer, ExchangeOutcome.Late, 0, CancellationToken.None);
            };
        }
    }

    public IReadOnlyList<IssuerLink> All { get; }

    public IssuerLink? Find(string name) => All.FirstOrDefault(l => l.Name == name);

    /// <summary>Each link's state now, for <see cref="SwitchMetrics"/>.</summary>
    public IEnumerable<LinkState> States() => All.Select(l => new LinkState(l.Name, l.IsSignedOn, l.IsSignedOffByOperator));

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(All.Select(link => link.RunAsync(stoppingToken)));
}

/// <summary>Healthy when every issuer link is signed on, degraded when some are, unhealthy when none is.</summary>
public sealed class IssuerLinksHealthCheck(IssuerLinks links) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var down = links.All.Where(l => !l.IsSignedOn).Select(l => l.IsSignedOffByOperator ? $"{l.Name} (signed off by an operator)" : l.Name).ToList();
        var description = $"not signed on: {string.Join(", ", down)}";
        return Task.FromResult(down.Count switch
        {
            0 => HealthCheckResult.Healthy($"{links.All.Count} issuer links signed on"),
            _ when down.Count == links.All.Count => HealthCheckResult.Unhealthy(description),
            _ => HealthCheckResult.Degraded(description),
        });
    }
}
