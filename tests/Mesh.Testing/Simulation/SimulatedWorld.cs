using Xunit;

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
/// Many seeded runs of one simulation, from a fixed first seed (<see cref="FirstSeed"/>), so CI runs
/// the same cases every time; <c>MESH_SIM_FIRST_SEED</c> and <c>MESH_SIM_RUNS</c> move and widen the
/// range, and <c>MESH_SIM_SEED</c> replays one seed alone. Each run must come out unbroken, and
/// together the runs must have reached every case the simulation is for.
/// </summary>
public static class SeededRuns
{
    public const int FirstSeed = 20261205;

    public static string Run(int runs, Func<int, (IReadOnlyList<string> Broken, IReadOnlyDictionary<string, long> Counts)> run, params string[] reached)
    {
        var replay = Environment.GetEnvironmentVariable("MESH_SIM_SEED") is { } replayed;
        runs = replay ? 1 : Seeds.FromEnvironment("MESH_SIM_RUNS", runs);
        var first = replay ? Seeds.FromEnvironment("MESH_SIM_SEED", 0) : Seeds.FromEnvironment("MESH_SIM_FIRST_SEED", FirstSeed);
        var totals = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var seed = first; seed < first + runs; seed++)
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
        return $"{runs} runs from seed {first}: {string.Join(", ", totals.Select(t => $"{t.Key} {t.Value}"))}";
    }
}

/// <summary>The seeds of the test suite's seeded runs: fixed, so CI is the same run each time; an environment variable replays or widens.</summary>
public static class Seeds
{
    /// <summary>The whole number in <paramref name="variable"/>, or <paramref name="fixedValue"/> when it is unset.</summary>
    public static int FromEnvironment(string variable, int fixedValue) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? int.Parse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture)
            : fixedValue;
}
