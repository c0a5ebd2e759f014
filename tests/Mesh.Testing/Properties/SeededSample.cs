using System.Globalization;
using System.Text.RegularExpressions;
using CsCheck;
using Xunit.Sdk;

namespace Mesh.Testing;

/// <summary>
/// CsCheck's <c>Sample</c> from a fixed seed, so CI runs the same cases each time and a change that
/// breaks a property breaks it every run. CsCheck's own <c>seed:</c> fixes only the first case and
/// draws the rest at random; here case 0 is the seed itself and each later case's seed is drawn from
/// it, so the seed CsCheck prints for a failure replays that case first.
/// <para>
/// <c>MESH_PROPERTY_SEED</c> runs from another seed: a CsCheck seed string (as a failure prints it)
/// to replay, or <c>random</c> to draw a new one. <c>MESH_PROPERTY_ITER</c> widens every property
/// test: a whole number, the factor by which each test's own count of cases is multiplied (10: ten
/// times as many). A failing case is shrunk by CsCheck with up to as many cases again, and the
/// failure names the seed of the smallest failing case found.
/// </para>
/// </summary>
public static partial class SeededSample
{
    /// <summary>CI's seed: the same cases, in the same order, each run.</summary>
    public const string FixedSeed = "0000002sAI4mBid1";

    public const string SeedVariable = "MESH_PROPERTY_SEED";
    public const string IterVariable = "MESH_PROPERTY_ITER";

    private static readonly Lazy<string> Drawn = new(() =>
        new PCG((uint)Random.Shared.Next(), (ulong)Random.Shared.NextInt64(long.MaxValue)).ToString());

    /// <summary>The seed of this run: <see cref="FixedSeed"/> unless <c>MESH_PROPERTY_SEED</c> names another, or <c>random</c> (drawn once a process).</summary>
    public static string Seed
    {
        get
        {
            var given = Environment.GetEnvironmentVariable(SeedVariable)?.Trim();
            if (string.IsNullOrEmpty(given))
            {
                return FixedSeed;
            }
            if (given.Equals("random", StringComparison.OrdinalIgnoreCase))
            {
                return Drawn.Value;
            }
            try
            {
                return PCG.Parse(given).ToString();
            }
            catch (CsCheckException ex)
            {
                throw new ArgumentException($"{SeedVariable}={given}: not a CsCheck seed (or \"random\"): {ex.Message}", ex);
            }
        }
    }

    /// <summary>The factor <c>MESH_PROPERTY_ITER</c> multiplies each test's count of cases by: 1 unless set.</summary>
    public static long Factor
    {
        get
        {
            var given = Environment.GetEnvironmentVariable(IterVariable)?.Trim();
            if (string.IsNullOrEmpty(given))
            {
                return 1;
            }
            return long.TryParse(given, NumberStyles.None, CultureInfo.InvariantCulture, out var factor) && factor >= 1
                ? factor
                : throw new ArgumentException($"{IterVariable}={given}: expected a whole number of at least 1, the factor that widens each property test");
        }
    }

    /// <summary>How many cases a test whose own count is <paramref name="iter"/> runs.</summary>
    public static long Cases(long iter) =>
        iter >= 1 ? checked(iter * Factor) : throw new ArgumentOutOfRangeException(nameof(iter), iter, "a property test runs at least one case");

    /// <summary>The seeds of <paramref name="cases"/> cases from <paramref name="seed"/>: the seed itself, then seeds drawn from it.</summary>
    public static IEnumerable<string> CaseSeeds(string seed, long cases)
    {
        var from = PCG.Parse(seed);
        yield return seed;
        for (var i = 1L; i < cases; i++)
        {
            yield return new PCG(from.Stream, from.Next64()).ToString();
        }
    }

    /// <summary>Checks <paramref name="assert"/> (it throws to fail) for <paramref name="iter"/> cases of <paramref name="gen"/>, one at a time, from <see cref="Seed"/>.</summary>
    public static void SampleSeeded<T>(this Gen<T> gen, Action<T> assert, long iter, Func<T, string>? print = null)
    {
        ArgumentNullException.ThrowIfNull(assert);
        gen.SampleSeededAsync(value =>
        {
            assert(value);
            return Task.CompletedTask;
        }, iter, print).GetAwaiter().GetResult();
    }

    /// <summary>Checks <paramref name="property"/> (false fails) for <paramref name="iter"/> cases of <paramref name="gen"/>, one at a time, from <see cref="Seed"/>.</summary>
    public static void SampleSeeded<T>(this Gen<T> gen, Func<T, bool> property, long iter, Func<T, string>? print = null)
    {
        ArgumentNullException.ThrowIfNull(property);
        gen.SampleSeeded(value => Xunit.Assert.True(property(value), "the property is false for this case"), iter, print);
    }

    /// <inheritdoc cref="SampleSeeded{T}(Gen{T}, Func{T, bool}, long, Func{T, string}?)"/>
    public static void SampleSeeded<T1, T2, T3>(this Gen<(T1, T2, T3)> gen, Func<T1, T2, T3, bool> property, long iter,
        Func<(T1, T2, T3), string>? print = null)
    {
        ArgumentNullException.ThrowIfNull(property);
        gen.SampleSeeded(value => property(value.Item1, value.Item2, value.Item3), iter, print);
    }

    /// <summary>Checks <paramref name="assert"/> (it throws to fail) for <paramref name="iter"/> cases of <paramref name="gen"/>, one after another, from <see cref="Seed"/>.</summary>
    public static async Task SampleSeededAsync<T>(this Gen<T> gen, Func<T, Task> assert, long iter, Func<T, string>? print = null)
    {
        ArgumentNullException.ThrowIfNull(gen);
        ArgumentNullException.ThrowIfNull(assert);
        var seed = Seed;
        var cases = Cases(iter);
        var index = 0L;
        foreach (var caseSeed in CaseSeeds(seed, cases))
        {
            var value = gen.Generate(PCG.Parse(caseSeed), null, out _);
            Exception? failed = null;
            try
            {
                await assert(value);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failed = ex;
            }
            if (failed is not null)
            {
                throw await Shrunk(seed, caseSeed, index, cases, failed,
                    () => gen.SampleAsync(assert, seed: caseSeed, iter: cases, threads: 1, print: print));
            }
            index++;
        }
    }

    /// <summary>
    /// The failure of case <paramref name="index"/>: CsCheck replays its seed first, then shrinks it with up to
    /// <paramref name="cases"/> more, and names the seed of the smallest failing case.
    /// </summary>
    private static async Task<Exception> Shrunk(string seed, string caseSeed, long index, long cases, Exception first, Func<Task> shrink)
    {
        var which = $"case {index} of {cases} from {SeedVariable}={seed} (seed {caseSeed})";
        try
        {
            await shrink();
        }
        catch (CsCheckException ex)
        {
            var smallest = PrintedSeed().Match(ex.Message) is { Success: true } m ? m.Groups[1].Value : caseSeed;
            return new XunitException($"{which} failed; {SeedVariable}={smallest} replays the smallest failing case CsCheck found:\n{ex.Message}", ex);
        }
        return new XunitException($"{which} failed once but passed when replayed (not deterministic?): {first.Message}", first);
    }

    [GeneratedRegex("Set seed: \"([^\"]+)\"")]
    private static partial Regex PrintedSeed();
}
