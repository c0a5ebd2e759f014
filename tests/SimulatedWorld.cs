namespace Mesh.Testing;

/// <summary>
/// A deterministic discrete-event world for the protocol simulations: fake time in milliseconds,
/// events run in (time, order scheduled) order, one seeded <see cref="Random"/> for every choice.
/// The same seed replays the same run, event for event. Linked into the test projects that
/// simulate a protocol (the switch's reversals, the gateway's notifications).
/// </summary>
public sealed class SimulatedWorld(int seed)
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    private readonly PriorityQueue<Action, (long AtMs, long Order)> _events = new();
    private long _order;

    public Random Random { get; } = new(seed);

    public long NowMs { get; private set; }

    public DateTimeOffset Now => Epoch.AddMilliseconds(NowMs);

    public long EventsRun { get; private set; }

    public void At(long atMs, Action action)
    {
        if (atMs < NowMs)
        {
            throw new InvalidOperationException($"an event at {atMs} ms is in the past (now {NowMs} ms)");
        }
        _events.Enqueue(action, (atMs, _order++));
    }

    public void After(long delayMs, Action action) => At(NowMs + delayMs, action);

    /// <summary>Runs events until <paramref name="done"/> holds, none are left, or <paramref name="endMs"/> passes; bounded by <paramref name="eventsMax"/>.</summary>
    public void Run(Func<bool> done, long endMs, int eventsMax)
    {
        while (!done() && _events.TryDequeue(out var action, out var key) && key.AtMs <= endMs)
        {
            if (++EventsRun > eventsMax)
            {
                throw new InvalidOperationException($"more than {eventsMax} events: the simulation does not settle");
            }
            NowMs = key.AtMs;
            action();
        }
    }

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>], from the run's seed.</summary>
    public double Between(double min, double max) => min + (Random.NextDouble() * (max - min));

    public bool Chance(double probability) => Random.NextDouble() < probability;
}

/// <summary>
/// One direction of a simulated network: each message is dropped, or delivered after a random
/// delay, and sometimes delivered twice; different delays reorder messages.
/// </summary>
public sealed class LossyNetwork(SimulatedWorld world, double dropRate, double duplicateRate, long delayMsMax)
{
    public long Sent { get; private set; }

    public long Dropped { get; private set; }

    public long Duplicated { get; private set; }

    public void Send(Action deliver)
    {
        Sent++;
        if (world.Chance(dropRate))
        {
            Dropped++;
            return;
        }
        world.After(world.Random.NextInt64(0, delayMsMax + 1), deliver);
        if (world.Chance(duplicateRate))
        {
            Duplicated++;
            world.After(world.Random.NextInt64(0, delayMsMax + 1), deliver);
        }
    }
}

/// <summary>
/// Many seeded runs of one simulation: from a new first seed each time, or only the seed in
/// <c>MESH_SIM_SEED</c> (a replay). Each run must come out unbroken, and together the runs must
/// have reached every case the simulation is for.
/// </summary>
public static class SeededRuns
{
    public static string Run(int runs, Func<int, (IReadOnlyList<string> Broken, IReadOnlyDictionary<string, long> Counts)> run, params string[] reached)
    {
        var replay = int.TryParse(Environment.GetEnvironmentVariable("MESH_SIM_SEED"), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var replayed);
        var first = replay ? replayed : Random.Shared.Next(0, int.MaxValue - runs);
        var totals = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var seed = first; seed < first + (replay ? 1 : runs); seed++)
        {
            var (broken, counts) = run(seed);
            Assert.True(broken.Count == 0, $"seed {seed} (replay with MESH_SIM_SEED={seed}): {string.Join("; ", broken.Take(5))}");
            foreach (var (name, count) in counts)
            {
                totals[name] = totals.GetValueOrDefault(name) + count;
            }
        }
        foreach (var name in reached)
        {
            Assert.True(replay || totals.GetValueOrDefault(name) > 0, $"no run reached {name}: {string.Join(", ", totals)}");
        }
        return $"{(replay ? 1 : runs)} runs from seed {first}: {string.Join(", ", totals.Select(t => $"{t.Key} {t.Value}"))}";
    }
}
