using System.Diagnostics.Metrics;

namespace Mesh.Settlement.Metrics;

/// <summary>
/// The ledger's meter (<c>Mesh.Settlement</c>): journal entries posted by kind (purchase, refund,
/// reversal, interbank), their lines, the amounts in minor units by kind and currency, events
/// skipped as duplicates, and what the last verification of the whole ledger found (none before
/// the first).
/// </summary>
public sealed class LedgerMetrics
{
    public const string MeterName = "Mesh.Settlement";

    private readonly Counter<long> _entries;
    private readonly Counter<long> _lines;
    private readonly Counter<long> _amountMinor;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _transfers;
    private readonly Counter<long> _reports;
    private readonly Counter<long> _closes;
    private long? _closeOverdueSeconds;
    private LedgerAudit? _lastAudit;

    public LedgerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _entries = meter.CreateCounter<long>("mesh.settlement.entries", "{entry}", "Journal entries posted, by kind");
        _lines = meter.CreateCounter<long>("mesh.settlement.postings", "{posting}", "Ledger lines posted (each entry's lines sum to zero), by kind");
        _amountMinor = meter.CreateCounter<long>("mesh.settlement.amount", "{minor_unit}", "Amounts of the entries posted, in minor units, by kind and currency");
        _duplicates = meter.CreateCounter<long>("mesh.settlement.duplicates", "{event}", "Events already in the ledger, skipped");
        meter.CreateObservableGauge("mesh.settlement.ledger.problems", () => LastAudit(a => a.Problems), "{problem}",
            "Problems the last verification found: an entry not summing to zero, a line without its entry or account, a cached balance off its lines, a ledger not summing to zero");
        meter.CreateObservableGauge("mesh.settlement.ledger.imbalance", () => LastAudit(a => a.SumMinor), "{minor_unit}",
            "What all the ledger's lines summed to at the last verification, in minor units: zero when it balances");
        _transfers = meter.CreateCounter<long>("mesh.settlement.payout.transfers", "{transfer}",
            "Payout transfers by status: sent on a payment instruction file, paid or rejected by the bank's report");
        _reports = meter.CreateCounter<long>("mesh.settlement.payout.reports", "{report}", "The bank's status reports by outcome: applied, repeated, refused");
        _closes = meter.CreateCounter<long>("mesh.settlement.day_close.attempts", "{attempt}",
            "The auto-closer's attempts by outcome: closed, already_closed, refused (not closable yet), failed");
        meter.CreateObservableGauge("mesh.settlement.day_close.overdue", () => _closeOverdueSeconds is { } s ? [new Measurement<long>(s)] : Array.Empty<Measurement<long>>(),
            "s", "How long the earliest business day still open has been due to close (0 when none is due); absent while the auto-closer is off");
    }

    public void Transfers(string status, int count)
    {
        if (count > 0)
        {
            _transfers.Add(count, new KeyValuePair<string, object?>("status", status));
        }
    }

    public void Report(string outcome) => _reports.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void CloseAttempted(string outcome) => _closes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void CloseOverdue(TimeSpan overdue) => _closeOverdueSeconds = (long)Math.Max(0, overdue.TotalSeconds);

    public void Posted(string kind, string currency, int lines, long amountMinor)
    {
        var kindTag = new KeyValuePair<string, object?>("kind", kind);
        _entries.Add(1, kindTag);
        _lines.Add(lines, kindTag);
        _amountMinor.Add(amountMinor, kindTag, new KeyValuePair<string, object?>("currency", currency));
    }

    public void Verified(long problems, long sumMinor) => _lastAudit = new LedgerAudit(problems, sumMinor);

    private IEnumerable<Measurement<long>> LastAudit(Func<LedgerAudit, long> value) =>
        _lastAudit is { } audit ? [new Measurement<long>(value(audit))] : [];

    public void Duplicates(int count)
    {
        if (count > 0)
        {
            _duplicates.Add(count);
        }
    }

    private sealed record LedgerAudit(long Problems, long SumMinor);
}
