using System.Threading.Channels;
using Mesh.ServiceDefaults.Background;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Switch.Tests;

/// <summary>
/// The background workers' loop (the reversal queue's among them). The crash campaign found the
/// switch stopping when the Hsm was killed with a reversal due: the queue's own loop let the Hsm's
/// RpcException escape, and a worker that throws stops the host. Now any failure of a round is
/// logged and the round tried again; only stopping ends the loop. An idle loop sleeps until its
/// signal rings, its round's due time comes or its fallback poll, whichever is first: the clock is
/// a fake one, moved only once the loop has gone to sleep on it.
/// </summary>
public sealed class PollingLoopTests
{
    private static readonly TimeSpan Fallback = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan WaitMax = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ARoundThatThrows_AnythingButStopping_IsTriedAgain_AndStoppingEndsTheLoop()
    {
        var failures = new Queue<Exception>([
            new global::Grpc.Core.RpcException(new global::Grpc.Core.Status(global::Grpc.Core.StatusCode.Unavailable, "hsm is down")),
            new TaskCanceledException("an HTTP timeout"),
            new InvalidOperationException("anything else"),
        ]);
        using var stopping = new CancellationTokenSource();
        var rounds = 0;
        var loop = PollingLoop.RunAsync(_ =>
        {
            rounds++;
            if (failures.TryDequeue(out var failure))
            {
                throw failure;
            }
            if (rounds == 5)
            {
                stopping.Cancel();
            }
            return Task.FromResult(true);
        }, () => TimeSpan.Zero, new FakeTimeProvider(), NullLogger.Instance, "test rounds", stopping.Token);

        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(5, rounds);
        Assert.Empty(failures);
    }

    [Fact]
    public async Task ARing_RunsTheNextRound_WithoutWaitingForTheFallbackPoll()
    {
        var world = new Rounds(_ => NextRound.WhenWoken);
        await world.StartAsync(TimeSpan.Zero);
        await world.Time.SleepingUntilAsync(world.StartedAt + Fallback);

        world.Signal.Wake();

        await world.RoundAsync(2);
        Assert.Equal(world.StartedAt, world.Time.GetUtcNow());
        await world.StopAsync();
    }

    [Fact]
    public async Task TheRoundsDueTime_RunsTheNextRoundThen_AndNotBefore()
    {
        var world = new Rounds(at => NextRound.Due(at + TimeSpan.FromSeconds(10)));
        await world.StartAsync(TimeSpan.Zero);
        await world.Time.SleepingUntilAsync(world.StartedAt + TimeSpan.FromSeconds(10));

        world.Time.Advance(TimeSpan.FromSeconds(9.999));
        Assert.Equal(1, world.Count);
        world.Time.Advance(TimeSpan.FromMilliseconds(1));

        await world.RoundAsync(2);
        Assert.Equal(world.StartedAt + TimeSpan.FromSeconds(10), world.Time.GetUtcNow());
        await world.StopAsync();
    }

    [Fact]
    public async Task NothingDue_AndNoRing_TheFallbackPollRunsTheNextRound()
    {
        var world = new Rounds(_ => NextRound.WhenWoken);
        await world.StartAsync(TimeSpan.Zero);
        await world.Time.SleepingUntilAsync(world.StartedAt + Fallback);

        world.Time.Advance(Fallback - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, world.Count);
        world.Time.Advance(TimeSpan.FromMilliseconds(1));

        await world.RoundAsync(2);
        await world.StopAsync();
    }

    [Fact]
    public async Task RingsDuringARound_FoldIntoOneMoreRound_NoSoonerThanTheRoundsApartMinimum()
    {
        var world = new Rounds(_ => NextRound.WhenWoken);
        world.OnRound = n =>
        {
            if (n == 1)
            {
                world.Signal.Wake();
                world.Signal.Wake();
                world.Signal.WakeAt(world.Time.GetUtcNow());
            }
        };
        await world.StartAsync(TimeSpan.FromMilliseconds(500));
        await world.Time.SleepingUntilAsync(world.StartedAt + TimeSpan.FromMilliseconds(500));

        world.Time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.Equal(1, world.Count);
        world.Time.Advance(TimeSpan.FromMilliseconds(1));
        await world.RoundAsync(2);
        await world.Time.SleepingUntilAsync(world.Time.GetUtcNow() + Fallback);
        world.Time.Advance(Fallback - TimeSpan.FromMilliseconds(1));

        Assert.Equal(2, world.Count);
        await world.StopAsync();
    }

    [Fact]
    public async Task AWakeAtEarlierThanTheSleep_ShortensIt()
    {
        var world = new Rounds(at => NextRound.Due(at + TimeSpan.FromMinutes(1)));
        await world.StartAsync(TimeSpan.Zero);
        await world.Time.SleepingUntilAsync(world.StartedAt + TimeSpan.FromMinutes(1));

        world.Signal.WakeAt(world.StartedAt + TimeSpan.FromMinutes(5));
        world.Signal.WakeAt(world.StartedAt + TimeSpan.FromSeconds(5));
        await world.Time.SleepingUntilAsync(world.StartedAt + TimeSpan.FromSeconds(5));
        world.Time.Advance(TimeSpan.FromSeconds(5));

        await world.RoundAsync(2);
        Assert.Equal(world.StartedAt + TimeSpan.FromSeconds(5), world.Time.GetUtcNow());
        await world.StopAsync();
    }

    [Fact]
    public async Task AFailedRound_IsTriedAgainOnARing_OrAtTheFallbackPoll()
    {
        var world = new Rounds(_ => throw new InvalidOperationException("the database is restarting"));
        await world.StartAsync(TimeSpan.Zero);
        await world.Time.SleepingUntilAsync(world.StartedAt + Fallback);

        world.Signal.Wake();
        await world.RoundAsync(2);
        await world.Time.SleepingUntilAsync(world.StartedAt + Fallback);
        world.Time.Advance(Fallback);

        await world.RoundAsync(3);
        await world.StopAsync();
    }

    /// <summary>A loop under test: its rounds counted, each answering <c>next</c> for the time it ran at.</summary>
    private sealed class Rounds(Func<DateTimeOffset, NextRound> next)
    {
        private readonly CancellationTokenSource _stopping = new();
        private readonly List<TaskCompletionSource> _ran = [];
        private Task _loop = Task.CompletedTask;
        private int _count;

        public WatchedTime Time { get; } = new();

        public WorkSignal Signal { get; } = new();

        public DateTimeOffset StartedAt { get; private set; }

        public Action<int> OnRound { get; set; } = _ => { };

        public int Count => Volatile.Read(ref _count);

        /// <summary>Starts the loop and waits for its first round.</summary>
        public async Task StartAsync(TimeSpan roundsApartMin)
        {
            StartedAt = Time.GetUtcNow();
            _loop = PollingLoop.RunAsync(_ =>
            {
                var n = Interlocked.Increment(ref _count);
                OnRound(n);
                Ran(n).TrySetResult();
                return Task.FromResult(next(Time.GetUtcNow()));
            }, Signal, () => Fallback, roundsApartMin, Time, NullLogger.Instance, "test rounds", _stopping.Token);
            await RoundAsync(1);
        }

        /// <summary>Waits until round <paramref name="n"/> has run.</summary>
        public Task RoundAsync(int n) => Ran(n).Task.WaitAsync(WaitMax);

        public async Task StopAsync()
        {
            await _stopping.CancelAsync();
            await _loop.WaitAsync(WaitMax);
        }

        private TaskCompletionSource Ran(int n)
        {
            lock (_ran)
            {
                while (_ran.Count < n)
                {
                    _ran.Add(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                }
                return _ran[n - 1];
            }
        }
    }

    /// <summary>A fake clock that tells when something goes to sleep on it (a timer is made), and until when.</summary>
    private sealed class WatchedTime : FakeTimeProvider
    {
        private readonly Channel<DateTimeOffset> _sleeps = Channel.CreateUnbounded<DateTimeOffset>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _sleeps.Writer.TryWrite(GetUtcNow() + dueTime);
            return timer;
        }

        /// <summary>Waits until something goes to sleep until <paramref name="wakeAt"/>: the loop, which may go to sleep for other times first.</summary>
        public async Task SleepingUntilAsync(DateTimeOffset wakeAt)
        {
            using var waiting = new CancellationTokenSource(WaitMax);
            while (await _sleeps.Reader.ReadAsync(waiting.Token) != wakeAt)
            {
            }
        }
    }
}
