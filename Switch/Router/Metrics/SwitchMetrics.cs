using System.Diagnostics.Metrics;

namespace Mesh.Switch.Metrics;

/// <summary>
/// The switch's meter (<c>Mesh.Switch</c>): authorizations by issuer, message type and response
/// code; the issuer's answer time; the approval rate over the last minute; the advices owed to
/// issuers (how many, and how long the oldest has waited), as of the reversal queue's last pass;
/// each issuer link's state (signed on, or signed off by an operator), read when collected; and the
/// zone key changes by outcome.
/// </summary>
public sealed class SwitchMetrics
{
    public const string MeterName = "Mesh.Switch";

    private readonly Counter<long> _authorizations;
    /// <summary>A bank answers in milliseconds; a timeout is seconds (<c>Switch:AuthorizationTimeoutMs</c>, at most 120).</summary>
    public static readonly IReadOnlyList<double> IssuerDurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly Histogram<double> _issuerSeconds;
    private readonly Counter<long> _zoneKeyChanges;
    private readonly ApprovalWindow _approvals;
    private ReversalBacklog _backlog = new(0, 0);

    public SwitchMetrics(IMeterFactory meters, TimeProvider time, Func<IEnumerable<LinkState>> links)
    {
        var meter = meters.Create(MeterName);
        _approvals = new ApprovalWindow(time);
        _authorizations = meter.CreateCounter<long>("mesh.switch.authorizations", "{authorization}",
            "Requests the switch answered, by issuer (none when not routed), message type and response code");
        _issuerSeconds = meter.CreateHistogram("mesh.switch.issuer.duration", "s",
            "From the request sent to the issuer to its answer, or to the timeout, by issuer and outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = IssuerDurationBuckets });
        _zoneKeyChanges = meter.CreateCounter<long>("mesh.switch.zone_key_changes", "{change}",
            "Zone key changes (0800/101) by issuer, key (ZPK, ZAK) and outcome: changed, or why both ends kept the current key");
        meter.CreateObservableGauge("mesh.switch.approval_rate", () => _approvals.Rate(), "1",
            "Approved (00) among the purchases and pre-authorizations answered in the last minute");
        meter.CreateObservableGauge("mesh.switch.reversals.pending", () => _backlog.Pending, "{advice}",
            "Reversals and refund advices not yet acknowledged by their issuer");
        meter.CreateObservableGauge("mesh.switch.reversals.oldest_age", () => _backlog.OldestAgeSeconds, "s",
            "How long the oldest unacknowledged advice has waited");
        meter.CreateObservableGauge("mesh.switch.issuer.link.up", () => links().Select(l => Link(l, l.SignedOn)), "{link}",
            "1 while the issuer link is signed on, 0 while it is not, by issuer");
        meter.CreateObservableGauge("mesh.switch.issuer.link.signed_off", () => links().Select(l => Link(l, l.SignedOffByOperator)), "{link}",
            "1 while an operator has signed the issuer link off (the switch does not reconnect it), by issuer");
    }

    public void Answered(string? issuer, string mti, string responseCode)
    {
        _authorizations.Add(1, new KeyValuePair<string, object?>("issuer", issuer ?? "none"), new KeyValuePair<string, object?>("mti", mti),
            new KeyValuePair<string, object?>("response_code", responseCode));
        if (mti is "0200" or "0100")
        {
            _approvals.Add(responseCode == "00");
        }
    }

    public void IssuerExchange(string issuer, string outcome, TimeSpan elapsed) =>
        _issuerSeconds.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("issuer", issuer), new KeyValuePair<string, object?>("outcome", outcome));

    public void ZoneKeyChange(string issuer, string key, string outcome) =>
        _zoneKeyChanges.Add(1, new KeyValuePair<string, object?>("issuer", issuer), new KeyValuePair<string, object?>("key", key),
            new KeyValuePair<string, object?>("outcome", outcome));

    public void Backlog(long pending, double oldestAgeSeconds) => _backlog = new ReversalBacklog(pending, oldestAgeSeconds);

    private static Measurement<int> Link(LinkState link, bool state) =>
        new(state ? 1 : 0, new KeyValuePair<string, object?>("issuer", link.Issuer));

    private sealed record ReversalBacklog(long Pending, double OldestAgeSeconds);
}

/// <summary>An issuer link as the metrics see it.</summary>
public sealed record LinkState(string Issuer, bool SignedOn, bool SignedOffByOperator);
