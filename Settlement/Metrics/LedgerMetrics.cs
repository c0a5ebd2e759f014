using System.Diagnostics.Metrics;

namespace Mesh.Settlement.Metrics;

/// <summary>
/// The ledger's meter (<c>Mesh.Settlement</c>): journal entries posted by kind (purchase, refund,
/// reversal, interbank), their lines, the amounts in minor units by kind and currency, and events
/// skipped as duplicates.
/// </summary>
public sealed class LedgerMetrics
{
    public const string MeterName = "Mesh.Settlement";

    private readonly Counter<long> _entries;
    private readonly Counter<long> _lines;
    private readonly Counter<long> _amountMinor;
    private readonly Counter<long> _duplicates;

    public LedgerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _entries = meter.CreateCounter<long>("mesh.settlement.entries", "{entry}", "Journal entries posted, by kind");
        _lines = meter.CreateCounter<long>("mesh.settlement.postings", "{posting}", "Ledger lines posted (each entry's lines sum to zero), by kind");
        _amountMinor = meter.CreateCounter<long>("mesh.settlement.amount", "{minor_unit}", "Amounts of the entries posted, in minor units, by kind and currency");
        _duplicates = meter.CreateCounter<long>("mesh.settlement.duplicates", "{event}", "Events already in the ledger, skipped");
    }

    public void Posted(string kind, string currency, int lines, long amountMinor)
    {
        var kindTag = new KeyValuePair<string, object?>("kind", kind);
        _entries.Add(1, kindTag);
        _lines.Add(lines, kindTag);
        _amountMinor.Add(amountMinor, kindTag, new KeyValuePair<string, object?>("currency", currency));
    }

    public void Duplicates(int count)
    {
        if (count > 0)
        {
            _duplicates.Add(count);
        }
    }
}
