using Mesh.Gateway.Notifications;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Gateway.Tests;

/// <summary>The notification schedule, driven by a fake clock: when a merchant never answers, when are the attempts made?</summary>
public sealed class NotificationScheduleTests
{
    [Fact]
    public void AMerchantThatNeverAnswers_IsTriedOnTheFieldsSchedule_ThenGivenUp()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
        var first = clock.GetUtcNow();
        var attempts = new List<DateTimeOffset>();
        DateTimeOffset? next = first;
        while (next is { } due && attempts.Count < 100)
        {
            clock.Advance(due - clock.GetUtcNow());
            attempts.Add(clock.GetUtcNow()); // the attempt fails
            next = NotificationSchedule.NextAttemptAt(new NotificationOptions().Schedule, attempts.Count, clock.GetUtcNow());
        }

        var minutesAfterFirst = attempts.Select(a => (a - first).TotalMinutes).ToArray();
        // 1 min, 5 min ×2, 10 min ×5, 1 h ×5, 6 h ×3, each after the previous attempt.
        Assert.Equal([0, 1, 6, 11, 21, 31, 41, 51, 61, 121, 181, 241, 301, 361, 721, 1081, 1441], minutesAfterFirst);
    }

    [Fact]
    public void AConfiguredSchedule_ReplacesTheDefault_AndStopsAfterItsLastEntry()
    {
        var options = new NotificationOptions { ScheduleSeconds = [1, 1, 2] };
        var at = new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);

        Assert.Equal(at.AddSeconds(1), NotificationSchedule.NextAttemptAt(options.Schedule, 1, at));
        Assert.Equal(at.AddSeconds(2), NotificationSchedule.NextAttemptAt(options.Schedule, 3, at));
        Assert.Null(NotificationSchedule.NextAttemptAt(options.Schedule, 4, at));
    }
}
