using System.Globalization;

namespace Mesh.Settlement.Ledger;

public sealed class SettlementOptions
{
    public const string Section = "Settlement";

    /// <summary>The business day's cut-off, local time of <see cref="TimeZone"/>: later transactions belong to the next settlement date.</summary>
    public string CutoffLocalTime { get; set; } = "23:00";

    public string TimeZone { get; set; } = "Asia/Shanghai";

    /// <summary>The issuing banks (their service names) asked for their postings when reconciling.</summary>
    public List<string> Issuers { get; set; } = [];

    /// <summary>At most this many events in one Record call.</summary>
    public int RecordBatchMax { get; set; } = 5_000;

    /// <summary>
    /// A switch authorization is taken into the ledger once it is this old: its answer, or the
    /// reversal of an unknown outcome, is decided by then (well past the switch's authorization timeout).
    /// </summary>
    public int InterbankSettleAfterMs { get; set; } = 30_000;

    /// <summary>How often the interbank intake looks for settled authorizations.</summary>
    public int InterbankPollMs { get; set; } = 5_000;

    /// <summary>At most this many of the switch's authorizations are taken in per round.</summary>
    public int InterbankRecordsMax { get; set; } = 20_000;

    /// <summary>How often the whole ledger is verified (each time a full read of its lines).</summary>
    public int LedgerVerifyIntervalMs { get; set; } = 900_000;
}

/// <summary>
/// Which settlement date an instant belongs to: its local date in the platform's time zone, or
/// the next one from the cut-off on (23:00 Asia/Shanghai by default).
/// </summary>
public sealed class SettlementCalendar(TimeZoneInfo zone, TimeOnly cutoff)
{
    public static SettlementCalendar From(SettlementOptions options) =>
        new(TimeZoneInfo.FindSystemTimeZoneById(options.TimeZone), TimeOnly.ParseExact(options.CutoffLocalTime, "HH:mm", CultureInfo.InvariantCulture));

    public DateOnly DateOf(DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        var date = DateOnly.FromDateTime(local.DateTime);
        return cutoff != TimeOnly.MinValue && TimeOnly.FromDateTime(local.DateTime) >= cutoff ? date.AddDays(1) : date;
    }

    /// <summary>The instant a settlement date's business day ends: the cut-off on that date (midnight after it when the cut-off is 00:00).</summary>
    public DateTimeOffset EndOf(DateOnly settlementDate)
    {
        var local = settlementDate.AddDays(cutoff == TimeOnly.MinValue ? 1 : 0).ToDateTime(cutoff);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }
}
