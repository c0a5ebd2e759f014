using Mesh.Settlement.Ledger;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Settlement.Tests;

/// <summary>When the auto-closer closes which day: 30 minutes after the 23:00 Asia/Shanghai cut-off, the earliest open day first.</summary>
public sealed class DayCloseScheduleTests
{
    private static readonly SettlementCalendar Calendar = SettlementCalendar.From(new SettlementOptions());
    private static readonly TimeSpan After = TimeSpan.FromMinutes(30);

    [Fact]
    public void YesterdayWithEverythingBeforeClosed_FallsDueHalfAnHourAfterItsCutoff()
    {
        // 23:10 in Shanghai on the 4th: the 4th ended at 23:00, and is due at 23:30.
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-04T15:10:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var closed = new DateOnly(2026, 12, 3);

        var early = DayCloseSchedule.Next(time.GetUtcNow(), closed, new DateOnly(2026, 12, 4), Calendar, After);
        time.Advance(TimeSpan.FromMinutes(20));
        var due = DayCloseSchedule.Next(time.GetUtcNow(), closed, new DateOnly(2026, 12, 4), Calendar, After);

        Assert.Equal(new DateOnly(2026, 12, 4), early.Date);
        Assert.True(time.GetUtcNow() >= due.DueAt);
        Assert.Equal(DateTimeOffset.Parse("2026-12-04T15:30:00Z", System.Globalization.CultureInfo.InvariantCulture), due.DueAt);
        Assert.True(early.DueAt > time.GetUtcNow().AddMinutes(-20));
    }

    [Fact]
    public void AnOlderOpenDayWithEntries_ClosesFirst_ThenTheNextDays()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T03:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

        var first = DayCloseSchedule.Next(time.GetUtcNow(), new DateOnly(2026, 11, 28), new DateOnly(2026, 12, 1), Calendar, After);
        var then = DayCloseSchedule.Next(time.GetUtcNow(), new DateOnly(2026, 12, 1), new DateOnly(2026, 12, 5), Calendar, After);

        Assert.Equal(new DateOnly(2026, 12, 1), first.Date);
        Assert.Equal(new DateOnly(2026, 12, 4), then.Date); // days with nothing in them close too, in one step
        Assert.True(time.GetUtcNow() >= first.DueAt && time.GetUtcNow() >= then.DueAt);
    }

    [Fact]
    public void OnceYesterdayIsClosed_TodayIsNext_AndNotDueBeforeItsCutoff()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T03:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

        var next = DayCloseSchedule.Next(time.GetUtcNow(), new DateOnly(2026, 12, 4), new DateOnly(2026, 12, 5), Calendar, After);
        var empty = DayCloseSchedule.Next(time.GetUtcNow(), null, null, Calendar, After);

        Assert.Equal(new DateOnly(2026, 12, 5), next.Date);
        Assert.True(next.DueAt > time.GetUtcNow());
        Assert.Equal(new DateOnly(2026, 12, 4), empty.Date);
    }
}
