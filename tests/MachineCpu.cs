using System.Globalization;

namespace Mesh.Benchmarks;

/// <summary>
/// CPU time of every process on the machine, summed by command name, read from /proc: PostgreSQL
/// backends, DCP and the services all show up, which a .NET process list does not give.
/// </summary>
public static class MachineCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>
    /// The key of the machine's stolen time in a snapshot (CPU seconds the hypervisor gave to other
    /// guests, from /proc/stat): not a process, so <see cref="PerUnit"/> and totals leave it out.
    /// </summary>
    public const string Stolen = "\0stolen";

    /// <summary>CPU seconds per command name, now, and the machine's <see cref="Stolen"/> seconds.</summary>
    public static Dictionary<string, double> Snapshot()
    {
        var totals = new Dictionary<string, double>(StringComparer.Ordinal);
        // "cpu  user nice system idle iowait irq softirq steal ...": the sum over all cores.
        var machine = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        totals[Stolen] = double.Parse(machine[8], CultureInfo.InvariantCulture) / TicksPerSecond;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue; // the process ended
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            if (open < 0 || close < open)
            {
                continue;
            }
            var name = stat[(open + 1)..close];
            var fields = stat[(close + 2)..].Split(' ');
            // After the name: state(0) ppid(1) ... utime(11) stime(12)
            var seconds = (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
            totals[name] = totals.GetValueOrDefault(name) + seconds;
        }
        return totals;
    }

    /// <summary>The CPU each command spent between two snapshots, biggest first, as "name 123 µs" per unit of work.</summary>
    public static string PerUnit(Dictionary<string, double> before, Dictionary<string, double> after, long units, int top = 8) =>
        string.Join(", ", after
            .Select(p => (Name: p.Key, Seconds: p.Value - before.GetValueOrDefault(p.Key)))
            .Where(p => p.Seconds > 0 && p.Name != Stolen)
            .OrderByDescending(p => p.Seconds)
            .Take(top)
            .Select(p => $"{p.Name} {p.Seconds * 1e6 / Math.Max(1, units):F0} µs"));
}
