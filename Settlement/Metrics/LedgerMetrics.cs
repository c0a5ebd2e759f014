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
    }

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
