using System.Collections.Concurrent;
using System.Globalization;
using Aspire.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Mesh.Load;

/// <summary>
/// The CPU every process on the machine used, each process named by what it is: a resource
/// of the platform (its process and every process under it, so PostgreSQL's backends count as
/// postgres), another process of the run (DCP, which detaches from the generator, known as the
/// resources' ancestors and their children; by command name), the load generator itself (known by
/// its id: the kernel cuts its name to 15 characters), or outside the run (other work on the
/// machine's shared cores).
/// </summary>
public sealed class ProcessCpu
{
    public const string Generator = "load generator";
    public const string Outside = "outside the run";

    // The process of each resource instance as DCP reports it (executable.pid), by instance; kept current from the resources' notifications.
    private readonly ConcurrentDictionary<string, (string Resource, int ProcessId)> _resourceProcesses = new(StringComparer.Ordinal);

    private ProcessCpu()
    {
    }

    /// <summary>CPU seconds of every process at one moment, each with its owner, and the machine's stolen seconds.</summary>
    public sealed record Snapshot(IReadOnlyDictionary<int, (string Owner, double CpuSeconds)> ByProcess, double StolenSeconds);

    /// <summary>What one owner (a resource, a command, the generator, outside) used between two snapshots.</summary>
    public sealed record Use(string Owner, double CpuSeconds, int Processes);

    /// <summary>Starts following the resources' processes (the notifications replay each resource's last state, then every change).</summary>
    public static ProcessCpu Watch(DistributedApplication app)
    {
        var cpu = new ProcessCpu();
        var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        _ = Task.Run(async () =>
        {
            await foreach (var change in app.ResourceNotifications.WatchAsync(stopping))
            {
                if (change.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid
                    && int.TryParse(Convert.ToString(pid, CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    cpu._resourceProcesses[change.ResourceId] = (change.Resource.Name, id);
                }
            }
        }, stopping);
        return cpu;
    }

    public Snapshot Now()
    {
        var resources = _resourceProcesses.Values.ToDictionary(r => r.ProcessId, r => r.Resource);
        var processes = MachineCpu.Processes();
        var parentOf = processes.ToDictionary(p => p.Id, p => p.ParentId);
        var helpers = Helpers(resources.Keys, parentOf);
        return new Snapshot(processes.ToDictionary(p => p.Id, p => (Owner(p, resources, helpers, parentOf), p.CpuSeconds)), MachineCpu.StolenSeconds());
    }

    /// <summary>
    /// CPU used between two snapshots by owner, biggest first. A process that ended between them is
    /// missing with its CPU: under steady load none should (the services pool their connections).
    /// </summary>
    public static IReadOnlyList<Use> Between(Snapshot before, Snapshot after) =>
        [.. after.ByProcess
            .Select(p => (p.Value.Owner, Seconds: p.Value.CpuSeconds - (before.ByProcess.TryGetValue(p.Key, out var was) ? was.CpuSeconds : 0)))
            .GroupBy(p => p.Owner, StringComparer.Ordinal)
            .Select(g => new Use(g.Key, g.Sum(p => p.Seconds), g.Count(p => p.Seconds > 0)))
            .Where(u => u.CpuSeconds > 0)
            .OrderByDescending(u => u.CpuSeconds)];

    private static string Owner(MachineCpu.ProcessTime process, Dictionary<int, string> resources, HashSet<int> helpers, Dictionary<int, int> parentOf)
    {
        if (process.Id == Environment.ProcessId)
        {
            return Generator;
        }
        for (var id = process.Id; parentOf.TryGetValue(id, out var parent); id = parent)
        {
            if (resources.TryGetValue(id, out var resource))
            {
                return resource;
            }
            if (helpers.Contains(id) || parent == Environment.ProcessId)
            {
                return process.Name;
            }
        }
        return Outside;
    }

    /// <summary>The resources' ancestors up to the generator's own line or init: the run's orchestrator (DCP).</summary>
    private static HashSet<int> Helpers(IEnumerable<int> resourceProcesses, Dictionary<int, int> parentOf)
    {
        var generatorLine = new HashSet<int> { 0, 1 };
        var id = Environment.ProcessId;
        while (generatorLine.Add(id))
        {
            id = parentOf.GetValueOrDefault(id);
        }
        var helpers = new HashSet<int>();
        foreach (var resource in resourceProcesses)
        {
            id = parentOf.GetValueOrDefault(resource);
            while (!generatorLine.Contains(id) && helpers.Add(id))
            {
                id = parentOf.GetValueOrDefault(id);
            }
        }
        return helpers;
    }
}
