using System.Diagnostics.Metrics;

namespace Mesh.Switch.Metrics;

/// <summary>
/// The switch's meter (<c>Mesh.Switch</c>): authorizations by issuer, message type and response
/// code; the issuer's answer time; the approval rate over the last minute; and the advices owed to
/// issuers (how many, and how long the oldest has waited), as of the reversal queue's last pass.
/// </summary>
public sealed class SwitchMetrics
{
    public const string MeterName = "Mesh.Switch";

    private readonly Counter<long> _authorizations;
    /// <summary>A bank answers in milliseconds; a timeout is seconds (<c>Switch:AuthorizationTimeoutMs</c>, at most 120).</summary>
    public static readonly IReadOnlyList<double> IssuerDurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly Histogram<double> _issuerSeconds;
    private readonly ApprovalWindow _approvals;
    private ReversalBacklog _backlog = new(0, 0);

    public SwitchMetrics(IMeterFactory meters, TimeProvider time)
    {
        var meter = meters.Create(MeterName);
        _approvals = new ApprovalWindow(time);
        _authorizations = meter.CreateCounter<long>("mesh.switch.authorizations", "{authorization}",
            "Requests the switch answered, by issuer (none when not routed), message type and response code");
        _issuerSeconds = meter.CreateHistogram("mesh.switch.issuer.duration", "s",
            "From the request sent to the issuer to its answer, or to the timeout, by issuer and outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = IssuerDurationBuckets });
        meter.CreateObservableGauge("mesh.switch.approval_rate", () => _approvals.Rate(), "1",
            "Approved (00) among the purchases and pre-authorizations answered in the last minute");
        meter.CreateObservableGauge("mesh.switch.reversals.pending", () => _backlog.Pending, "{advice}",
            "Reversals and refund advices not yet acknowledged by their issuer");
        meter.CreateObservableGauge("mesh.switch.reversals.oldest_age", () => _backlog.OldestAgeSeconds, "s",
            "How long the oldest unacknowledged advice has waited");
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

    public void Backlog(long pending, double oldestAgeSeconds) => _backlog = new ReversalBacklog(pending, oldestAgeSeconds);

    private sealed record ReversalBacklog(long Pending, double OldestAgeSeconds);
}
