using Mesh.Gateway.Notifications;
using Xunit.Abstractions;

namespace Mesh.Gateway.Tests;

/// <summary>
/// The notification schedule under a seeded simulation: fake time over days, one to three
/// dispatcher replicas that claim with a lease and crash mid-send, a merchant that goes down for
/// minutes or days, answers slowly or with 500, and a network that drops, delays and duplicates
/// both ways. The gateway side applies the real rules (<see cref="NotificationSchedule"/>: the
/// next attempt, giving up after the last, the claim's lease, with the field's default schedule or
/// a short one); the merchant applies the SDK's (a repeated id is a duplicate, a lower version is
/// old news). A failure names its seed; <c>MESH_SIM_SEED</c> replays it.
/// </summary>
public sealed class NotificationSimulationTests(ITestOutputHelper output)
{
    public const int Runs = 2_000;

    [Fact]
    public void UnderOutagesLossAndReplicaCrashes_EveryMerchantLearnsTheLatestState_OrTheScheduleRanOutAndOperatorsAreTold()
    {
        output.WriteLine(SeededRuns.Run(Runs, seed =>
        {
            var run = new NotificationSimulation(seed);
            return (run.Run(), run.Counts);
        },
            "delivered", "given up", "retries", "duplicates at the merchant", "old versions ignored by the merchant",
            "replica crashes", "leases expired", "superseded"));
    }
}

/// <summary>One seeded run: orders changing state, their notifications dispatched by replicas to a flaky merchant, then the invariants.</summary>
internal sealed class NotificationSimulation
{
    private const int TimeoutMs = 10_000;
    private const long PollMs = 1_000;
    private const int BatchSizeMax = 32;
    private const long EndMs = 10L * 24 * 3_600_000;

    private readonly SimulatedWorld _world;
    private readonly LossyNetwork _toMerchant;
    private readonly LossyNetwork _toGateway;
    private readonly IReadOnlyList<int> _schedule;
    private readonly double _merchantErrorRate;
    private readonly long _merchantLatencyMsMax;
    private readonly List<(long FromMs, long ToMs)> _merchantDown = [];
    private readonly List<Row> _rows = [];
    private readonly Dictionary<int, int> _latestVersion = [];
    private readonly Dictionary<int, int> _merchantApplied = [];
    private readonly HashSet<long> _merchantReceived = [];
    private readonly List<Replica> _replicas = [];
    private readonly List<string> _broken = [];

    public NotificationSimulation(int seed)
    {
        _world = new SimulatedWorld(seed);
        var drop = _world.Between(0, 0.2);
        var duplicate = _world.Between(0, 0.1);
        _toMerchant = new LossyNetwork(_world, drop, duplicate, (long)_world.Between(5, 2_000));
        _toGateway = new LossyNetwork(_world, drop, duplicate, (long)_world.Between(5, 2_000));
        _schedule = _world.Chance(0.5) ? new NotificationOptions().Schedule : new NotificationOptions { ScheduleSeconds = [1, 1, 2, 4, 8] }.Schedule;
        _merchantErrorRate = _world.Between(0, 0.3);
        _merchantLatencyMsMax = (long)_world.Between(10, TimeoutMs * 1.5);
        // Outages: short ones in most runs; in some, one that outlasts the whole schedule.
        var at = 0L;
        for (var outages = _world.Random.Next(0, 6); outages > 0; outages--)
        {
            at += _world.Random.NextInt64(0, 3_600_000);
            var length = _world.Chance(0.15) ? 4L * 24 * 3_600_000 : _world.Random.NextInt64(1_000, 2 * 3_600_000);
            _merchantDown.Add((at, at + length));
            at += length;
        }
        for (var i = _world.Random.Next(1, 4); i > 0; i--)
        {
            _replicas.Add(new Replica(_replicas.Count));
        }
    }

    public Dictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);

    private sealed class Row(long id, int order, int version, long createdMs)
    {
        public long Id { get; } = id;
        public int Order { get; } = order;
        public int Version { get; } = version;
        public long CreatedMs { get; } = createdMs;
        public int Attempts { get; set; }
        public long NextMs { get; set; } = createdMs;
        public long? DeliveredMs { get; set; }
        public long? GivenUpMs { get; set; }
        public long? SupersededMs { get; set; }
        public List<(long StartMs, long EndMs, bool Ok, int Replica)> Sends { get; } = [];

        public bool Terminal => DeliveredMs is not null || GivenUpMs is not null || SupersededMs is not null;
    }

    private sealed class Replica(int number)
    {
        public int Number { get; } = number;
        public bool Down { get; set; }
        public bool Busy { get; set; }
        public int Generation { get; set; }
    }

    public List<string> Run()
    {
        var orders = _world.Random.Next(1, 12);
        for (var order = 0; order < orders; order++)
        {
            var when = _world.Random.NextInt64(0, 600_000);
            for (var version = 2; version <= _world.Random.Next(2, 5); version++)
            {
                var (o, v) = (order, version);
                // A later state replaces the one before; a reversal ("paid" undone) supersedes what was not yet told.
                var supersedes = _world.Chance(0.2);
                _world.At(when, () => Changed(o, v, supersedes));
                when += _world.Random.NextInt64(1, 3_600_000);
            }
        }
        foreach (var replica in _replicas)
        {
            ScheduleCrashes(replica);
            WakeAt(replica, _world.Random.NextInt64(0, PollMs));
        }
        _world.Run(() => _world.NowMs > 0 && _rows.Count > 0 && _rows.All(r => r.Terminal) && _replicas.All(r => !r.Busy), EndMs, eventsMax: 2_000_000);
        Check();
        return _broken;
    }

    private void Count(string name, long by = 1) => Counts[name] = Counts.GetValueOrDefault(name) + by;

    private bool MerchantDown => _merchantDown.Any(d => d.FromMs <= _world.NowMs && _world.NowMs < d.ToMs);

    private void Changed(int order, int version, bool supersedes)
    {
        _latestVersion[order] = version;
        if (supersedes)
        {
            foreach (var row in _rows.Where(r => r.Order == order && !r.Terminal))
            {
                row.SupersededMs = _world.NowMs;
                Count("superseded");
            }
        }
        _rows.Add(new Row(_rows.Count + 1, order, version, _world.NowMs));
        foreach (var replica in _replicas.Where(r => !r.Down && !r.Busy))
        {
            WakeAt(replica, _world.NowMs + _world.Random.NextInt64(0, PollMs));
        }
    }

    private void ScheduleCrashes(Replica replica)
    {
        for (var crashes = _world.Random.Next(0, 3); crashes > 0; crashes--)
        {
            _world.At(_world.Random.NextInt64(0, 2 * 3_600_000), () =>
            {
                if (replica.Down)
                {
                    return;
                }
                replica.Down = true;
                replica.Busy = false;
                replica.Generation++;
                Count("replica crashes");
                _world.After(_world.Random.NextInt64(1_000, 600_000), () =>
                {
                    replica.Down = false;
                    WakeAt(replica, _world.NowMs);
                });
            });
        }
    }

    /// <summary>The replica's next pass at <paramref name="atMs"/>; a pass already scheduled for later is replaced.</summary>
    private void WakeAt(Replica replica, long atMs)
    {
        var generation = ++replica.Generation;
        _world.At(Math.Max(atMs, _world.NowMs), () =>
        {
            if (generation == replica.Generation && !replica.Down && !replica.Busy)
            {
                Pass(replica);
            }
        });
    }

    /// <summary>One dispatcher pass, as <see cref="NotificationDispatcher.DispatchDueAsync"/>: claim the due rows with a lease, send them all, then wait.</summary>
    private void Pass(Replica replica)
    {
        var now = _world.Now;
        var claimed = _rows.Where(r => !r.Terminal && r.NextMs <= _world.NowMs).OrderBy(r => r.NextMs).Take(BatchSizeMax).ToList();
        foreach (var row in claimed)
        {
            if (row.Sends.Count > 0 && row.Sends[^1].EndMs < 0)
            {
                Count("leases expired");
            }
            row.NextMs = (long)(NotificationSchedule.LeaseUntil(now, TimeoutMs) - SimulatedWorld.Epoch).TotalMilliseconds;
        }
        if (claimed.Count == 0)
        {
            var due = _rows.Where(r => !r.Terminal).Select(r => r.NextMs).DefaultIfEmpty(long.MaxValue).Min();
            if (due != long.MaxValue)
            {
                WakeAt(replica, Math.Max(_world.NowMs + PollMs, due));
            }
            return;
        }
        replica.Busy = true;
        var generation = replica.Generation;
        var pending = claimed.Count;
        foreach (var row in claimed)
        {
            Send(replica, generation, row, () =>
            {
                if (--pending == 0 && generation == replica.Generation)
                {
                    replica.Busy = false;
                    WakeAt(replica, _world.NowMs + (claimed.Count >= BatchSizeMax ? 0 : PollMs));
                }
            });
        }
    }

    /// <summary>One attempt, as <see cref="NotificationSender.SendAsync(PendingNotification, CancellationToken)"/>: POST within the timeout; a 2xx is delivered, anything else scheduled again or given up.</summary>
    private void Send(Replica replica, int generation, Row row, Action done)
    {
        var start = _world.NowMs;
        var index = row.Sends.Count;
        row.Sends.Add((start, -1, false, replica.Number));
        var answered = false;
        _toMerchant.Send(() =>
        {
            if (MerchantDown)
            {
                return;
            }
            if (!_merchantReceived.Add(row.Id))
            {
                Count("duplicates at the merchant");
            }
            else if (_merchantApplied.GetValueOrDefault(row.Order) > row.Version)
            {
                Count("old versions ignored by the merchant");
            }
            _merchantApplied[row.Order] = Math.Max(_merchantApplied.GetValueOrDefault(row.Order), row.Version);
            var ok = !_world.Chance(_merchantErrorRate);
            _world.After(_world.Random.NextInt64(0, _merchantLatencyMsMax + 1), () => _toGateway.Send(() =>
            {
                if (!answered && generation == replica.Generation && _world.NowMs - start <= TimeoutMs)
                {
                    answered = true;
                    Record(row, index, ok);
                    done();
                }
            }));
        });
        _world.After(TimeoutMs, () =>
        {
            if (!answered && generation == replica.Generation)
            {
                answered = true;
                Record(row, index, ok: false);
                done();
            }
        });
    }

    private void Record(Row row, int index, bool ok)
    {
        row.Sends[index] = row.Sends[index] with { EndMs = _world.NowMs, Ok = ok };
        row.Attempts++;
        if (ok)
        {
            row.DeliveredMs = _world.NowMs;
            Count("delivered");
            return;
        }
        Count("retries");
        if (NotificationSchedule.NextAttemptAt(_schedule, row.Attempts, _world.Now) is { } next)
        {
            row.NextMs = (long)(next - SimulatedWorld.Epoch).TotalMilliseconds;
        }
        else
        {
            row.GivenUpMs = _world.NowMs;
            Count("given up");
        }
    }

    private void Check()
    {
        foreach (var row in _rows)
        {
            if (!row.Terminal)
            {
                _broken.Add($"notification {row.Id} neither delivered, given up nor superseded after {EndMs / 86_400_000} days ({row.Attempts} attempts)");
            }
            if (row.DeliveredMs is not null && !_merchantReceived.Contains(row.Id))
            {
                _broken.Add($"notification {row.Id} recorded as delivered, but the merchant never received it");
            }
            if (row.GivenUpMs is not null && (row.Attempts != _schedule.Count + 1 || row.Sends.Any(s => s.Ok)))
            {
                _broken.Add($"notification {row.Id} given up after {row.Attempts} attempts (the schedule has {_schedule.Count + 1})");
            }
            var recorded = row.Sends.Where(s => s.EndMs >= 0).ToList();
            for (var k = 0; k + 1 < recorded.Count; k++)
            {
                var earliest = recorded[k].EndMs + (_schedule[Math.Min(k, _schedule.Count - 1)] * 1_000L);
                if (recorded[k + 1].StartMs < earliest && !recorded[k].Ok)
                {
                    _broken.Add($"notification {row.Id} attempt {k + 2} at {recorded[k + 1].StartMs} ms, before {earliest} ms");
                }
            }
            var ordered = row.Sends.OrderBy(s => s.StartMs).ToList();
            for (var k = 0; k + 1 < ordered.Count; k++)
            {
                if (ordered[k].EndMs >= 0 && ordered[k + 1].StartMs < ordered[k].EndMs)
                {
                    _broken.Add($"notification {row.Id} sent twice at once (replicas {ordered[k].Replica} and {ordered[k + 1].Replica})");
                }
            }
            if (row.SupersededMs is { } superseded && row.Sends.Any(s => s.StartMs > superseded))
            {
                _broken.Add($"notification {row.Id} sent after it was superseded");
            }
        }
        foreach (var (order, latest) in _latestVersion)
        {
            var last = _rows.Last(r => r.Order == order);
            if (last.DeliveredMs is not null && _merchantApplied.GetValueOrDefault(order) != latest)
            {
                _broken.Add($"order {order}: the merchant knows version {_merchantApplied.GetValueOrDefault(order)}, the gateway delivered {latest}");
            }
        }
        Count("notifications", _rows.Count);
    }
}
