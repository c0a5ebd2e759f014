using Mesh.Switch.Metrics;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Switch.Tests;

/// <summary>The approval rate an operator watches is the last minute's, not the day's.</summary>
public sealed class ApprovalWindowTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public void NothingAnswered_IsARateOfZero() => Assert.Equal(0, new ApprovalWindow(_time).Rate());

    [Fact]
    public void ThreeApprovedOfFourInTheLastMinute_IsThreeQuarters()
    {
        var window = new ApprovalWindow(_time);
        window.Add(approved: true);
        _time.Advance(TimeSpan.FromSeconds(20));
        window.Add(approved: true);
        window.Add(approved: false);
        _time.Advance(TimeSpan.FromSeconds(39));
        window.Add(approved: true);

        Assert.Equal(0.75, window.Rate());
    }

    [Fact]
    public void AnswersOlderThanAMinute_NoLongerCount()
    {
        var window = new ApprovalWindow(_time);
        window.Add(approved: false);
        window.Add(approved: false);
        _time.Advance(TimeSpan.FromSeconds(61));
        window.Add(approved: true);

        Assert.Equal(1.0, window.Rate());
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(0, window.Rate());
    }

    [Fact]
    public void ABucketReusedAMinuteLater_StartsFromZero()
    {
        var window = new ApprovalWindow(_time);
        window.Add(approved: false);
        _time.Advance(TimeSpan.FromSeconds(ApprovalWindow.Seconds));
        window.Add(approved: true);

        Assert.Equal(1.0, window.Rate());
    }
}
