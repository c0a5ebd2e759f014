namespace Mesh.Gateway.Notifications;

public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>
    /// Seconds from one failed attempt to the next; after the last, delivery gives up and the
    /// notification is flagged for operators. Empty: the field's default, 1 min, 5 min ×2,
    /// 10 min ×5, 1 h ×5, 6 h ×3.
    /// </summary>
    public List<int> ScheduleSeconds { get; set; } = [];

    /// <summary>How long one delivery attempt may take.</summary>
    public int TimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// The dispatcher's fallback poll: it sleeps until the earliest next attempt it knows of, or until a writer in this
    /// process rings it; this finds what was made due since without a ring (another replica's rows and re-sends).
    /// </summary>
    public int PollMs { get; set; } = 5_000;

    /// <summary>At most this many notifications claimed and sent at once per replica.</summary>
    public int BatchSizeMax { get; set; } = 32;

    /// <summary>Loopback addresses may be notified (always in development: the merchant's test server on this machine).</summary>
    public bool AllowLoopback { get; set; }

    public static readonly int[] DefaultScheduleSeconds =
        [60, 300, 300, 600, 600, 600, 600, 600, 3_600, 3_600, 3_600, 3_600, 3_600, 21_600, 21_600, 21_600];

    public IReadOnlyList<int> Schedule => ScheduleSeconds.Count > 0 ? ScheduleSeconds : DefaultScheduleSeconds;
}

/// <summary>When the next attempt is due after <c>attemptsMade</c> attempts, the last at <c>lastAttemptAt</c>; null when delivery gives up.</summary>
public static class NotificationSchedule
{
    /// <summary>A claimed notification is leased for this many send timeouts: no replica claims it again while a send can still be running.</summary>
    public const int LeaseTimeouts = 3;

    /// <summary>Until when a notification claimed at <paramref name="now"/> is another replica's to leave alone.</summary>
    public static DateTimeOffset LeaseUntil(DateTimeOffset now, int timeoutMs) => now.AddMilliseconds((long)timeoutMs * LeaseTimeouts);

    public static DateTimeOffset? NextAttemptAt(IReadOnlyList<int> scheduleSeconds, int attemptsMade, DateTimeOffset lastAttemptAt) =>
        attemptsMade >= 1 && attemptsMade <= scheduleSeconds.Count ? lastAttemptAt.AddSeconds(scheduleSeconds[attemptsMade - 1]) : null;
}
