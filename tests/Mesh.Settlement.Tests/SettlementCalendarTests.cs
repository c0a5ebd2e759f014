using Mesh.Settlement.Ledger;

namespace Mesh.Settlement.Tests;

/// <summary>The business day in Asia/Shanghai (UTC+8, no daylight saving) with the 23:00 cut-off.</summary>
public sealed class SettlementCalendarTests
{
    private static readonly SettlementCalendar Calendar = SettlementCalendar.From(new SettlementOptions());

    [Theory]
    [InlineData("2026-11-26T14:59:59Z", "2026-11-26")] // 22:59:59 in Shanghai
    [InlineData("2026-11-26T15:00:00Z", "2026-11-27")] // 23:00:00: the next settlement date
    [InlineData("2026-11-26T15:59:59Z", "2026-11-27")] // 23:59:59
    [InlineData("2026-11-26T16:00:00Z", "2026-11-27")] // 00:00 on the 27th
    [InlineData("2026-12-31T15:30:00Z", "2027-01-01")] // across the year
    public void ATransaction_BelongsToItsLocalDate_OrTheNextFromTheCutoffOn(string utc, string settlementDate) =>
        Assert.Equal(DateOnly.Parse(settlementDate, System.Globalization.CultureInfo.InvariantCulture),
            Calendar.DateOf(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void ASettlementDate_EndsAtItsCutoff()
    {
        var end = Calendar.EndOf(new DateOnly(2026, 11, 26));

        Assert.Equal(DateTimeOffset.Parse("2026-11-26T15:00:00Z", System.Globalization.CultureInfo.InvariantCulture), end);
        Assert.Equal(new DateOnly(2026, 11, 27), Calendar.DateOf(end));
        Assert.Equal(new DateOnly(2026, 11, 26), Calendar.DateOf(end.AddTicks(-1)));
    }
}
