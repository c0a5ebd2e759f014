using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Mesh.Testing;

/// <summary>
/// The failover campaign, on the highly available PostgreSQL (<c>Mesh:Postgres=ha</c>: two Patroni nodes,
/// synchronous replication). Payers buy through the platform in three phases: the primary alone (its
/// standby stopped, so a commit waits for the primary's disk only, as on the single server), then with
/// its synchronous standby back, then through the loss of the primary's server: its Patroni and its
/// PostgreSQL are killed with SIGKILL together, and Patroni promotes the standby once the dead primary's
/// leader key expires. Killing only the postmaster would have its Patroni restart it in place (crash
/// recovery, no failover); killing only Patroni would leave a primary running that no one manages. The
/// old primary is then started again and must rejoin as the new primary's standby. At the end every
/// purchase a payer saw approved must be paid at the gateway, and the crash campaign's order-by-order
/// checks (gateway, switch, banks, ledger) must hold.
/// </summary>
public sealed class FailoverCampaign(DistributedApplication app, FailoverCampaignOptions options,
    Func<long, Task<(string Outcome, string OrderId)>> payOnce, Action<string> log)
{
    private const int RetryPauseMs = 200;
    private const int PurchaseTimeoutMs = 60_000;
    private static readonly TimeSpan RoleTimeout = TimeSpan.FromMinutes(2);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _acknowledged = [];
    private readonly ConcurrentBag<(double StartedAt, double AnsweredAt)> _paid = [];
    private long _sequence;

    public async Task<FailoverReport> RunAsync(CancellationToken ct)
    {
        var (primary, standby) = await RolesAsync(ct);
        log($"{Now,7:F1} s  primary {primary}, synchronous standby {standby}");
        // Warm-up, unmeasured: the first purchases pay for every process's first calls.
        await PayForAsync(options.PhaseSeconds / 2, ct);

        await ExecuteAsync(standby, KnownResourceCommands.StopCommand, ct);
        await WaitForClusterAsync($"{primary} alone", c => c.Members.Count(m => m.State == "running") == 1, ct);
        var alone = await PayForAsync(options.PhaseSeconds, ct);
        log($"{Now,7:F1} s  primary alone: {alone:F1} purchases/s");

        await ExecuteAsync(standby, KnownResourceCommands.StartCommand, ct);
        await WaitForClusterAsync($"{standby} synchronous again", c => c.Member(standby)?.Role == "sync_standby", ct);
        var synchronous = await PayForAsync(options.PhaseSeconds, ct);
        log($"{Now,7:F1} s  synchronous replication: {synchronous:F1} purchases/s");

        using var stopPaying = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var payers = StartPayers(stopPaying.Token);
        await Task.Delay(TimeSpan.FromSeconds(options.PhaseSeconds / 2.0), ct);
        var killedAt = Now;
        KillNode(primary);
        log($"{killedAt,7:F1} s  kill -9 {primary} (Patroni and its PostgreSQL)");
        await WaitForClusterAsync($"{standby} promoted", c => c.Member(standby)?.Role == "leader", ct);
        var promotedAt = Now;
        log($"{promotedAt,7:F1} s  {standby} promoted");
        await WaitUntilAsync("a purchase acknowledged after the kill", () => _paid.Any(p => p.StartedAt > killedAt), ct);
        var firstAcknowledged = _paid.Where(p => p.StartedAt > killedAt).Min(p => p.AnsweredAt);
        log($"{firstAcknowledged,7:F1} s  first purchase acknowledged again");
        await Task.Delay(TimeSpan.FromSeconds(options.PhaseSeconds / 2.0), ct);
        await stopPaying.CancelAsync();
        await Task.WhenAll(payers);

        await ExecuteAsync(primary, KnownResourceCommands.StartCommand, ct);
        var rejoined = await WaitForClusterAsync($"{primary} back as the standby",
            c => c.Member(primary) is { Role: "sync_standby" or "replica", State: "running" } old && old.Timeline == c.Member(standby)!.Timeline, ct);
        log($"{Now,7:F1} s  {primary} rejoined as {rejoined.Member(primary)!.Role} on timeline {rejoined.Member(primary)!.Timeline}");

        var drained = await PlatformInvariants.DrainAsync(app, options.MerchantIds, options.DrainTimeout, ct);
        log($"{Now,7:F1} s  {(drained.Quiet ? "drained" : "NOT drained")}: {drained.Detail}");
        var serverErrors = _outcomes.Where(o => o.Key.EndsWith(" 500", StringComparison.Ordinal)).Sum(o => o.Value);
        var lost = await NotPaidAsync([.. _acknowledged], ct);
        var checks = new List<InvariantCheck>
        {
            new("no request was answered 500 (an outage is a 503 with Retry-After)", serverErrors == 0, $"{serverErrors} answered 500"),
            new($"every purchase a payer saw approved is paid at the gateway ({_acknowledged.Count})", lost.Count == 0,
                lost.Count == 0 ? "none lost" : $"{lost.Count} lost, e.g. {string.Join(", ", lost.Take(3))}"),
            new("the old primary rejoined as a standby on the new timeline", true, $"{primary}: {rejoined.Member(primary)!.Role}"),
            new("the queues drained (payments, refunds, reversals, relay, notifications)", drained.Quiet, drained.Detail),
        };
        checks.AddRange(await PlatformInvariants.CheckAsync(app, options.MerchantIds, ct));
        return new FailoverReport(alone, synchronous, promotedAt - killedAt, firstAcknowledged - killedAt,
            new SortedDictionary<string, long>(_outcomes, StringComparer.Ordinal), checks);
    }

    private double Now => _clock.Elapsed.TotalSeconds;

    private List<Task> StartPayers(CancellationToken stop) => [.. Enumerable.Range(0, options.Payers).Select(_ => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            var startedAt = Now;
            var (outcome, orderId) = await PayGuardedAsync(Interlocked.Increment(ref _sequence));
            _outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            if (outcome == CrashCampaign.Paid)
            {
                _acknowledged.Add(orderId);
                _paid.Add((startedAt, Now));
            }
            else
            {
                await Task.Delay(RetryPauseMs, CancellationToken.None);
            }
        }
    }, CancellationToken.None))];

    /// <summary>Purchases approved per second while the payers pay for <paramref name="seconds"/>.</summary>
    private async Task<double> PayForAsync(int seconds, CancellationToken ct)
    {
        var before = _paid.Count;
        var started = Now;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        await Task.WhenAll(StartPayers(stop.Token));
        return (_paid.Count - before) / (Now - started);
    }

    private async Task<(string Outcome, string OrderId)> PayGuardedAsync(long n)
    {
        try
        {
            return await payOnce(n).WaitAsync(TimeSpan.FromMilliseconds(PurchaseTimeoutMs));
        }
        catch (TimeoutException)
        {
            return ("no answer within 60 s", "");
        }
        catch (Exception ex)
        {
            return (ex.GetType().Name, "");
        }
    }

    /// <summary>The node's Patroni (the resource's process) and its postmaster (which Patroni started detached), both with SIGKILL.</summary>
    private void KillNode(string node)
    {
        Invariant(app.ResourceNotifications.TryGetCurrentState(node, out var state), $"{node} is a resource of the platform");
        var patroni = Convert.ToInt32(state!.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value, CultureInfo.InvariantCulture);
        var postmaster = int.Parse(File.ReadLines(Path.Combine(options.NodesFolder, MemberOf(node), "data", "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        Process.GetProcessById(patroni).Kill();
        Process.GetProcessById(postmaster).Kill();
    }

    private async Task ExecuteAsync(string resource, string command, CancellationToken ct)
    {
        var commands = app.Services.GetRequiredService<ResourceCommandService>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(RoleTimeout);
        if (command == KnownResourceCommands.StartCommand)
        {
            // A killed or stopped process is started once its snapshot says it is no longer running.
            await app.ResourceNotifications.WaitForResourceAsync(resource,
                e => e.Snapshot.State?.Text is { } s && s != KnownResourceStates.Running && s != KnownResourceStates.Starting, timeout.Token);
        }
        var result = await commands.ExecuteCommandAsync(resource, command, timeout.Token);
        Invariant(result.Success, $"{command} {resource}: {result.Message}");
        log($"{Now,7:F1} s  {command} {resource}");
    }

    private async Task<(string Primary, string Standby)> RolesAsync(CancellationToken ct)
    {
        var cluster = await WaitForClusterAsync("a primary and its synchronous standby",
            c => c.Members.Any(m => m.Role == "leader") && c.Members.Any(m => m.Role == "sync_standby"), ct);
        return (ResourceOf(cluster.Members.Single(m => m.Role == "leader").Name), ResourceOf(cluster.Members.Single(m => m.Role == "sync_standby").Name));
    }

    /// <summary>Polls Patroni's <c>/cluster</c> on whichever node answers until <paramref name="holds"/>.</summary>
    private async Task<PatroniView> WaitForClusterAsync(string what, Func<PatroniView, bool> holds, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        PatroniView? last = null;
        while (deadline.Elapsed < RoleTimeout)
        {
            foreach (var node in options.Nodes)
            {
                try
                {
                    var cluster = await http.GetFromJsonAsync<PatroniView>(new Uri(app.GetEndpoint(node, "rest"), "/cluster"), ct);
                    last = cluster ?? last;
                    if (cluster is not null && holds(cluster))
                    {
                        return cluster;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
                {
                    // That node is down: ask the other.
                }
            }
            await Task.Delay(250, ct);
        }
        throw new TimeoutException($"Patroni's cluster did not reach: {what} within {RoleTimeout.TotalSeconds:F0} s; it was {last?.Describe() ?? "not answering"}");
    }

    private async Task WaitUntilAsync(string what, Func<bool> holds, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (!holds())
        {
            Invariant(deadline.Elapsed < RoleTimeout, $"{what} within {RoleTimeout.TotalSeconds:F0} s");
            await Task.Delay(100, ct);
        }
    }

    private async Task<List<string>> NotPaidAsync(string[] orderIds, CancellationToken ct)
    {
        await using var gateway = new NpgsqlConnection(await app.GetConnectionStringAsync("gatewaydb", ct));
        await gateway.OpenAsync(ct);
        await using var read = new NpgsqlCommand(
            "SELECT id FROM unnest($1::text[]) id WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.merchant_id = ANY($2) AND o.order_id = id AND o.status = 'paid')",
            gateway);
        read.Parameters.Add(new NpgsqlParameter { Value = orderIds });
        read.Parameters.Add(new NpgsqlParameter { Value = options.MerchantIds });
        var lost = new List<string>();
        await using var row = await read.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            lost.Add(row.GetString(0));
        }
        return lost;
    }

    private string ResourceOf(string member) => options.Nodes.Single(n => MemberOf(n) == member);

    /// <summary>The AppHost names node <c>i</c> <c>postgres-i</c>, and its Patroni member <c>nodei</c>.</summary>
    private static string MemberOf(string resource) => $"node{resource[(resource.LastIndexOf('-') + 1)..]}";

    private static void Invariant(bool holds, string what)
    {
        if (!holds)
        {
            throw new InvalidOperationException($"Campaign invariant broken: {what}");
        }
    }
}

/// <summary>The cluster as Patroni's REST API reports it.</summary>
public sealed record PatroniView(List<PatroniMember> Members)
{
    /// <summary>Each member's name, role, state, timeline and lag, for a failure message.</summary>
    public string Describe() =>
        string.Join("; ", Members.Select(m => $"{m.Name} {m.Role} {m.State} timeline {m.Timeline?.ToString(CultureInfo.InvariantCulture) ?? "?"} lag {m.Lag?.ToString() ?? "?"}"));

    public PatroniMember? Member(string resource) =>
        Members.SingleOrDefault(m => m.Name == $"node{resource[(resource.LastIndexOf('-') + 1)..]}");
}

/// <summary>One member as Patroni's <c>/cluster</c> shows it; <see cref="Lag"/> is bytes behind the leader, or <c>"unknown"</c>.</summary>
public sealed record PatroniMember(string Name, string Role, string State, int? Timeline, JsonElement? Lag = null);

public sealed record FailoverCampaignOptions(string[] Nodes, string NodesFolder, int Payers, string[] MerchantIds, int PhaseSeconds, TimeSpan DrainTimeout);

public sealed record FailoverReport(double AlonePerSecond, double SynchronousPerSecond, double PromotedAfterSeconds, double AcknowledgedAgainAfterSeconds,
    IReadOnlyDictionary<string, long> Outcomes, IReadOnlyList<InvariantCheck> Checks)
{
    public bool Passed => Checks.All(c => c.Passed);

    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine("== failover campaign");
        text.AppendLine("| Measure | Value |");
        text.AppendLine("|---|---:|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| purchases approved per second, primary alone | {AlonePerSecond:F1} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| purchases approved per second, synchronous standby | {SynchronousPerSecond:F1} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| cost of synchronous replication | {(1 - SynchronousPerSecond / AlonePerSecond) * 100:F0}% |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| kill to standby promoted | {PromotedAfterSeconds:F1} s |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| kill to first purchase acknowledged again | {AcknowledgedAgainAfterSeconds:F1} s |");
        text.AppendLine();
        text.AppendLine("| Purchase outcome (as the payer saw it) | Count |");
        text.AppendLine("|---|---:|");
        foreach (var (outcome, count) in Outcomes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {outcome} | {count} |");
        }
        text.AppendLine();
        text.AppendLine("| Invariant | Result | Detail |");
        text.AppendLine("|---|---|---|");
        foreach (var c in Checks)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {c.Name} | {(c.Passed ? "passed" : "FAILED")} | {c.Detail} |");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"{Checks.Count(c => c.Passed)} of {Checks.Count} invariant checks passed");
        return text.ToString();
    }
}
