using System.Threading.Channels;

namespace Mesh.ServiceDefaults.Database;

/// <summary>
/// Concurrent requests handled as groups: each caller submits one item and waits for its own
/// result, while a few workers take whatever has queued up (at most <c>groupMax</c> items) and
/// run it in one go: one round trip, one transaction, one WAL flush for the whole group. No
/// timer: a group is what arrived while the previous one ran, so a quiet system answers at once.
/// A group that fails is run again one item at a time, so one bad item fails only its caller;
/// an item alone is tried up to <c>attemptsAlone</c> times (a concurrent duplicate, a deadlock).
/// The queue is bounded: callers wait when it is full.
/// </summary>
public sealed class MicroBatcher<TItem, TResult> : IAsyncDisposable
{
    public const int QueueMax = 4_096;

    private readonly Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> _run;
    private readonly int _groupMax;
    private readonly int _attemptsAlone;
    private readonly Action<int, Exception>? _regrouped;
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(QueueMax) { FullMode = BoundedChannelFullMode.Wait });
    private readonly Task[] _workers;

    public MicroBatcher(Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> run, int groupMax, int workers, int attemptsAlone = 1,
        Action<int, Exception>? regrouped = null)
    {
        Safety.Invariant.Holds(groupMax is > 0 and <= QueueMax && workers is > 0 and <= 16 && attemptsAlone is > 0 and <= 10, "micro-batch limits");
        _run = run;
        _groupMax = groupMax;
        _attemptsAlone = attemptsAlone;
        _regrouped = regrouped;
        _workers = Enumerable.Range(0, workers).Select(_ => Task.Run(WorkAsync)).ToArray();
    }

    public async Task<TResult> SubmitAsync(TItem item, CancellationToken ct)
    {
        var pending = new Pending(item, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, ct);
        return await pending.Done.Task.WaitAsync(ct);
    }

    private async Task WorkAsync()
    {
        var group = new List<Pending>(_groupMax);
        while (await _queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < _groupMax && _queue.Reader.TryRead(out var next))
            {
                group.Add(next);
            }
            if (group.Count == 1)
            {
                await RunAloneAsync(group[0]);
                continue;
            }
            if (group.Count == 0)
            {
                continue;
            }
            try
            {
                var results = await _run(group.Select(p => p.Item).ToArray());
                Safety.Invariant.Holds(results.Count == group.Count, "one result per item");
                for (var i = 0; i < group.Count; i++)
                {
                    group[i].Done.TrySetResult(results[i]);
                }
            }
            catch (Exception ex)
            {
                _regrouped?.Invoke(group.Count, ex);
                foreach (var alone in group)
                {
                    await RunAloneAsync(alone);
                }
            }
        }
    }

    private async Task RunAloneAsync(Pending pending)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                pending.Done.TrySetResult((await _run([pending.Item]))[0]);
                return;
            }
            catch (Exception ex) when (attempt >= _attemptsAlone)
            {
                pending.Done.TrySetException(ex);
                return;
            }
            catch (Exception ex)
            {
                _regrouped?.Invoke(1, ex);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private sealed record Pending(TItem Item, TaskCompletionSource<TResult> Done);
}
