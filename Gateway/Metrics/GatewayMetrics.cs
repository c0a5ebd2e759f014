using System.Diagnostics.Metrics;

namespace Mesh.Gateway.Metrics;

/// <summary>
/// The gateway's meter (<c>Mesh.Gateway</c>): orders created, card payments by result and
/// response code with their duration (page submit to answer), notification attempts by outcome,
/// and the notification backlog (how many are owed, how long the oldest has waited) as of the
/// dispatcher's last count.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "Mesh.Gateway";

    private readonly Counter<long> _orders;
    private readonly Counter<long> _payments;
    /// <summary>A payment is tens of milliseconds on a quiet platform, seconds when a bank is slow.</summary>
    public static readonly IReadOnlyList<double> PaymentDurationBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private readonly Histogram<double> _paymentSeconds;
    private readonly Counter<long> _notificationAttempts;
    private NotificationBacklog _backlog = new(0, 0);

    public GatewayMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _orders = meter.CreateCounter<long>("mesh.gateway.orders", "{order}", "Orders created, by protocol (v1 or netpay)");
        _payments = meter.CreateCounter<long>("mesh.gateway.payments", "{payment}",
            "Card payments submitted on the payment page, by result (approved, declined, wrong_pin, pending, not_payable, bad_pin) and response code");
        _paymentSeconds = meter.CreateHistogram("mesh.gateway.payment.duration", "s",
            "From the consumer's submit to the payment's outcome: PIN, switch, issuer and the writes, by result",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PaymentDurationBuckets });
        _notificationAttempts = meter.CreateCounter<long>("mesh.gateway.notifications.attempts", "{attempt}",
            "Merchant notification attempts, by outcome (delivered, retry, given_up)");
        meter.CreateObservableGauge("mesh.gateway.notifications.backlog", () => _backlog.Owed, "{notification}",
            "Notifications owed to merchants: not delivered, not given up, not superseded");
        meter.CreateObservableGauge("mesh.gateway.notifications.oldest_age", () => _backlog.OldestAgeSeconds, "s",
            "How long the oldest notification owed has waited");
    }

    public void OrderCreated(string protocol) => _orders.Add(1, new KeyValuePair<string, object?>("protocol", protocol));

    public void Paid(string result, string? responseCode, TimeSpan elapsed)
    {
        var resultTag = new KeyValuePair<string, object?>("result", result);
        _payments.Add(1, resultTag, new KeyValuePair<string, object?>("response_code", responseCode ?? "none"));
        _paymentSeconds.Record(elapsed.TotalSeconds, resultTag);
    }

    public void NotificationAttempt(string outcome) => _notificationAttempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Backlog(long owed, double oldestAgeSeconds) => _backlog = new NotificationBacklog(owed, oldestAgeSeconds);

    private sealed record NotificationBacklog(long Owed, double OldestAgeSeconds);
}
