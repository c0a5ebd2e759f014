using System.Globalization;

namespace Mesh.Testing;

/// <summary>
/// CPU time of every process on the machine, read from /proc: PostgreSQL backends, DCP and the
/// services all show up, which a .NET process list does not give.
/// </summary>
public static class MachineCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>
    /// The key of the machine's stolen time in a snapshot (CPU seconds the hypervisor gave to other
    /// guests, from /proc/stat): not a process, so <see cref="PerUnit"/> and totals leave it out.
    /// </summary>
    public const string Stolen = "\0stolen";

    /// <summary>One process: its id, its parent's, its command name (the kernel keeps 15 characters) and the CPU seconds it has used.</summary>
    public readonly record struct ProcessTime(int Id, int ParentId, string Name, double CpuSeconds);

    /// <summary>CPU seconds per command name, now, and the machine's <see cref="Stolen"/> seconds.</summary>
    public static Dictionary<string, double> Snapshot()
    {
        var totals = new Dictionary<string, double>(StringComparer.Ordinal) { [Stolen] = StolenSeconds() };
        foreach (var process in Processes())
        {
            totals[process.Name] = totals.GetValueOrDefault(process.Name) + process.CpuSeconds;
        }
        return totals;
    }

    /// <summary>The CPU seconds the hypervisor gave to other guests, summed over all cores, so far.</summary>
    public static double StolenSeconds()
    {
        // "cpu  user nice system idle iowait irq softirq steal ...": the sum over all cores.
        var machine = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return double.Parse(machine[8], CultureInfo.InvariantCulture) / TicksPerSecond;
    }

    /// <summary>Every process running now.</summary>
    public static List<ProcessTime> Processes()
    {
        var processes = new List<ProcessTime>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
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
            var fields = stat[(close + 2)..].Split(' ');
            // After the name: state(0) ppid(1) ... utime(11) stime(12)
            var seconds = (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
            processes.Add(new ProcessTime(id, int.Parse(fields[1], CultureInfo.InvariantCulture), stat[(open + 1)..close], seconds));
        }
        return processes;
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
