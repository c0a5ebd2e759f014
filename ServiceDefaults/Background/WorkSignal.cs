namespace Mesh.ServiceDefaults.Background;

/// <summary>
/// A background worker's doorbell. The code that writes the worker's work rings it once the write
/// is committed (<see cref="Wake"/>), or says when work it wrote falls due (<see cref="WakeAt"/>);
/// the worker's <see cref="PollingLoop"/> then runs its next round at that time instead of at its
/// fallback poll. It holds one ring and one due time, the earliest, whatever the number of writers:
/// rings while a round runs fold into one more round, which sees all of their work. A ring that is
/// already pending costs a writer two reads.
/// </summary>
public sealed class WorkSignal
{
    /// <summary>No due time is pending.</summary>
    private const long NoneDue = long.MaxValue;

    /// <summary>Due at once (<see cref="Wake"/>): earlier than any time.</summary>
    private const long DueAtOnce = long.MinValue;

    private long _dueAtUnixMs = NoneDue;
    private TaskCompletionSource _ring = NewRing();

    /// <summary>Work is waiting now: the worker's next round runs as soon as its pace allows.</summary>
    public void Wake() => Lower(DueAtOnce);

    /// <summary>Work falls due at <paramref name="dueAt"/>: the worker's next round runs then, unless one runs sooner.</summary>
    public void WakeAt(DateTimeOffset dueAt) => Lower(dueAt.ToUnixTimeMilliseconds());

    /// <summary>The earliest due time rung since the last <see cref="Take"/>; null when none.</summary>
    public DateTimeOffset? DueAt => Volatile.Read(ref _dueAtUnixMs) switch
    {
        NoneDue => null,
        DueAtOnce => DateTimeOffset.MinValue,
        var ms => DateTimeOffset.FromUnixTimeMilliseconds(ms),
    };

    /// <summary>
    /// The ring to wait on, made ready for the next ring first if it has rung. Read it before
    /// <see cref="DueAt"/>: a ring after that read completes the task returned.
    /// </summary>
    internal Task Ring()
    {
        var ring = Volatile.Read(ref _ring);
        if (ring.Task.IsCompleted)
        {
            // Only the worker's loop replaces the ring. A full fence, as the writers' exchange of the due
            // time is: either a writer's ring completes this new task, or the loop's read of the due time sees it.
            ring = NewRing();
            Interlocked.Exchange(ref _ring, ring);
        }
        return ring.Task;
    }

    /// <summary>A round is starting: what was rung so far is its work; a ring from now on is for the next round.</summary>
    internal void Take() => Interlocked.Exchange(ref _dueAtUnixMs, NoneDue);

    private void Lower(long dueAtUnixMs)
    {
        var seen = Volatile.Read(ref _dueAtUnixMs);
        while (dueAtUnixMs < seen)
        {
            var was = Interlocked.CompareExchange(ref _dueAtUnixMs, dueAtUnixMs, seen);
            if (was == seen)
            {
                // An earlier due time than the loop knew of: it works out its sleep again.
                Volatile.Read(ref _ring).TrySetResult();
                return;
            }
            seen = was;
        }
    }

    private static TaskCompletionSource NewRing() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
