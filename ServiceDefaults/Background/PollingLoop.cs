using Microsoft.Extensions.Logging;

namespace Mesh.ServiceDefaults.Background;

/// <summary>When a worker's next round is due, as its round saw the work.</summary>
/// <param name="At">The earliest time work it knows of falls due; null when it knows of none.</param>
/// <param name="Busy">The round took a full batch: more is waiting, and the next round runs at once.</param>
public readonly record struct NextRound(DateTimeOffset? At, bool Busy)
{
    /// <summary>A full batch: more is waiting.</summary>
    public static NextRound AtOnce => new(null, true);

    /// <summary>Nothing known to be due: the next round waits for a ring or the fallback poll.</summary>
    public static NextRound WhenWoken => new(null, false);

    /// <summary>The earliest work known falls due at <paramref name="at"/> (null: none known).</summary>
    public static NextRound Due(DateTimeOffset? at) => new(at, false);
}

/// <summary>
/// The shape of the background workers (the gateway's notifications, settlement relay, unresolved
/// payments and expired orders; the switch's reversal queue; the ledger's interbank intake; the
/// Hsm's ceremony sweep): run a round until stopped. A round that took a full batch is followed
/// at once; otherwise the next round runs when its <see cref="WorkSignal"/> rings (the writer of the
/// work, in this process), when the earliest work the round knew of falls due, or after the
/// fallback poll, whichever is first: the fallback is what finds work written by another replica
/// or by a writer that does not ring. Rounds that did not take a full batch start at least a
/// minimum apart, so a busy writer ringing for every row still has its rows taken in batches.
/// A failed round is logged and tried again after the fallback poll, or a ring.
/// </summary>
public static class PollingLoop
{
    /// <summary>The longest one sleep lasts (a day): a round runs at least that often.</summary>
    private const double SleepMsMax = 86_400_000;

    /// <summary>Runs <c>round</c> until stopped; waits <c>idleDelay</c> after a round that returned false (it was not busy) or failed.</summary>
    public static Task RunAsync(Func<CancellationToken, Task<bool>> round, Func<TimeSpan> idleDelay, TimeProvider time, ILogger logger, string what,
        CancellationToken stoppingToken) =>
        RunAsync(async ct => await round(ct) ? NextRound.AtOnce : NextRound.WhenWoken, signal: null, idleDelay, TimeSpan.Zero, time, logger, what,
            stoppingToken);

    /// <summary>
    /// Runs <c>round</c> until stopped: again at once after a busy round; otherwise when <c>signal</c> rings, when the round's
    /// <see cref="NextRound.At"/> comes, or <c>fallbackPoll</c> after the round ended, whichever is first, and never sooner
    /// than <c>roundsApartMin</c> (or <c>fallbackPoll</c>, if shorter) after the round started.
    /// </summary>
    public static async Task RunAsync(Func<CancellationToken, Task<NextRound>> round, WorkSignal? signal, Func<TimeSpan> fallbackPoll,
        TimeSpan roundsApartMin, TimeProvider time, ILogger logger, string what, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(round);
        ArgumentNullException.ThrowIfNull(fallbackPoll);
        ArgumentNullException.ThrowIfNull(time);
        var next = NextRound.AtOnce;
        var (started, finished) = (time.GetUtcNow(), time.GetUtcNow());
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!next.Busy)
            {
                var fallback = fallbackPoll();
                await WaitForRoundAsync(signal, Earliest(next.At, finished + fallback), started + (roundsApartMin < fallback ? roundsApartMin : fallback), time,
                    stoppingToken);
                if (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }
            signal?.Take();
            started = time.GetUtcNow();
            try
            {
                next = await round(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever a round meets (a database restarting, the Hsm out of reach, a timeout
                // surfacing as a cancellation) is logged and the round tried again: a worker that
                // threw would stop the whole process.
                logger.LogWarning(ex, "{What} failed; trying again", what);
                next = NextRound.WhenWoken;
            }
            finished = time.GetUtcNow();
        }
    }

    /// <summary>Waits until <paramref name="dueAt"/>, or an earlier time the signal rings for, but not before <paramref name="notBefore"/>.</summary>
    private static async Task WaitForRoundAsync(WorkSignal? signal, DateTimeOffset dueAt, DateTimeOffset notBefore, TimeProvider time, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // The ring first, then the due time it guards: a ring after this read completes the task.
            var ring = signal?.Ring();
            var at = Latest(Earliest(dueAt, signal?.DueAt), notBefore);
            var wait = at - time.GetUtcNow();
            if (wait <= TimeSpan.Zero)
            {
                return;
            }
            using var sleeping = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // Whole milliseconds, rounded up: a timer never wakes a round before the time its work is due.
            var delay = Task.Delay(TimeSpan.FromMilliseconds(Math.Min(Math.Ceiling(wait.TotalMilliseconds), SleepMsMax)), time, sleeping.Token);
            if (await Task.WhenAny(ring ?? delay, delay) == delay)
            {
                return; // the time came, or stopping began
            }
            await sleeping.CancelAsync();
            // Rung: the due time may now be earlier than the one being slept to.
        }
    }

    private static DateTimeOffset Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is { } x && b is { } y ? (x < y ? x : y) : a ?? b ?? DateTimeOffset.MaxValue;

    private static DateTimeOffset Latest(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
