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
/// The seeded crash and fault campaign. While payers buy through the platform, it kills each
/// process in turn with SIGKILL (PostgreSQL included) at random moments and starts it again, and
/// breaks the banks' links (answers dropped, answers after the switch's timeout, connections closed
/// mid-message). Then it lets the queues drain and checks what a payment platform promises, order
/// by order, across the gateway, the switch, the banks and the ledger. The same seed gives the same
/// faults in the same order, at the same moments. Linked into the load generator (the long
/// command) and the end-to-end tests (the bounded smoke run).
/// </summary>
public sealed class CrashCampaign(DistributedApplication app, CrashCampaignOptions options, Func<long, Task<string>> payOnce, Action<string> log)
{
    /// <summary>The processes killed, in a seeded order each round.</summary>
    public static readonly string[] Processes = ["gateway", "switch", "issuer-icbc", "issuer-ccb", "hsm", "settlement", "postgres"];

    /// <summary>The link faults, on a bank chosen by the seed, each held for <see cref="LinkFaultHeldMs"/>.</summary>
    public static readonly string[] LinkFaults = ["answers dropped", "answers after the timeout", "connections closed mid-message"];

    public const int LinkFaultHeldMs = 3_000;

    /// <summary>
    /// The seed run when none is given: CI's (<c>CrashCampaignTests</c>, where <c>MESH_CRASH_SEED</c> runs
    /// another) and the load generator's <c>crash</c> command's, so a run without a seed repeats the last.
    /// </summary>
    public const int FixedSeed = 522327;

    /// <summary>The outcome a payer reports for a purchase the platform approved.</summary>
    public const string Paid = "paid";

    private const int RetryPauseMs = 200;
    private const int PurchaseTimeoutMs = 60_000;
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromMinutes(3);

    private readonly ConcurrentDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly List<CrashFault> _faults = [];

    public async Task<CrashReport> RunAsync(CancellationToken ct)
    {
        var random = new Random(options.Seed);
        var clock = Stopwatch.StartNew();
        using var stopPaying = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long sequence = 0;
        var payers = Enumerable.Range(0, options.Payers).Select(_ => Task.Run(async () =>
        {
            while (!stopPaying.IsCancellationRequested)
            {
                var outcome = await PayGuardedAsync(Interlocked.Increment(ref sequence));
                _outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                if (outcome != Paid)
                {
                    // As a consumer would: a moment before trying again, not a tight loop against a process that is down.
                    await Task.Delay(RetryPauseMs, CancellationToken.None);
                }
            }
        }, CancellationToken.None)).ToList();

        var schedule = Schedule(random);
        foreach (var (kind, target) in schedule)
        {
            await Task.Delay(random.Next(options.PauseMsMin, options.PauseMsMax), ct);
            var at = clock.Elapsed.TotalSeconds;
            log($"{at,7:F1} s  {kind} {target}");
            if (kind == "kill -9")
            {
                await KillAndRestartAsync(target, ct);
            }
            else
            {
                await BreakLinkAsync(target, kind, ct);
            }
            _faults.Add(new CrashFault(kind, target, at, clock.Elapsed.TotalSeconds - at));
        }
        await Task.Delay(options.PauseMsMax, ct);
        await stopPaying.CancelAsync();
        await Task.WhenAll(payers);
        var paidFor = clock.Elapsed;

        log($"{clock.Elapsed.TotalSeconds,7:F1} s  load stopped after {Interlocked.Read(ref sequence)} purchases; draining the queues");
        var drained = await PlatformInvariants.DrainAsync(app, options.MerchantIds, options.DrainTimeout, ct);
        log($"{clock.Elapsed.TotalSeconds,7:F1} s  {(drained.Quiet ? "drained" : "NOT drained")}: {drained.Detail}");
        var serverErrors = _outcomes.Where(o => o.Key.EndsWith(" 500", StringComparison.Ordinal)).Sum(o => o.Value);
        var checks = new List<InvariantCheck>
        {
            new("no request was answered 500 (an outage is a 503 with Retry-After)", serverErrors == 0, $"{serverErrors} answered 500"),
            new("the queues drained (payments, refunds, reversals, relay, notifications)", drained.Quiet, drained.Detail),
        };
        checks.AddRange(await PlatformInvariants.CheckAsync(app, options.MerchantIds, ct));
        return new CrashReport(options.Seed, paidFor, _faults, new SortedDictionary<string, long>(_outcomes, StringComparer.Ordinal),
            await PlatformInvariants.OrdersByStatusAsync(app, options.MerchantIds, ct), checks);
    }

    /// <summary>Each round kills every process once, in an order the seed shuffles, with the link faults dealt in between.</summary>
    private List<(string Kind, string Target)> Schedule(Random random)
    {
        var schedule = new List<(string, string)>();
        while (schedule.Count < options.Faults)
        {
            var round = Processes.Select(p => ("kill -9", p))
                .Concat(LinkFaults.Select(f => (f, random.Next(2) == 0 ? "issuer-icbc" : "issuer-ccb")))
                .ToArray();
            random.Shuffle(round);
            schedule.AddRange(round);
        }
        return schedule.Take(options.Faults).ToList();
    }

    private async Task<string> PayGuardedAsync(long n)
    {
        try
        {
            return await payOnce(n).WaitAsync(TimeSpan.FromMilliseconds(PurchaseTimeoutMs));
        }
        catch (TimeoutException)
        {
            return "no answer within 60 s";
        }
        catch (Exception ex)
        {
            return ex.GetType().Name;
        }
    }

    private async Task KillAndRestartAsync(string resource, CancellationToken ct)
    {
        Invariant(app.ResourceNotifications.TryGetCurrentState(resource, out var state), $"{resource} is a resource of the platform");
        var pid = Convert.ToInt32(state!.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value, CultureInfo.InvariantCulture);
        Process.GetProcessById(pid).Kill(entireProcessTree: true);
        using var recovery = CancellationTokenSource.CreateLinkedTokenSource(ct);
        recovery.CancelAfter(RecoveryTimeout);
        await app.ResourceNotifications.WaitForResourceAsync(resource,
            e => e.Snapshot.State?.Text is { } s && s != KnownResourceStates.Running && s != KnownResourceStates.Starting, recovery.Token);
        var commands = app.Services.GetRequiredService<ResourceCommandService>();
        var started = await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, recovery.Token);
        Invariant(started.Success, $"{resource} starts again: {started.Message}");
        // The snapshot still says how the killed process ended until the new one runs.
        await app.ResourceNotifications.WaitForResourceAsync(resource, KnownResourceStates.Running, recovery.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, recovery.Token);
        // The payers need the gateway back before the next fault is worth injecting.
        await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", recovery.Token);
    }

    private async Task BreakLinkAsync(string bank, string fault, CancellationToken ct)
    {
        using var http = await app.CreateCallerHttpClientAsync(bank);
        var faults = new
        {
            latencyMs = fault == "answers after the timeout" ? options.AuthorizationTimeoutMs + 1_000 : 0,
            dropAnswers = fault == "answers dropped",
            closeConnections = fault == "connections closed mid-message",
            systemMalfunction = false,
        };
        (await http.PutAsJsonAsync("/admin/faults", faults, ct)).EnsureSuccessStatusCode();
        await Task.Delay(LinkFaultHeldMs, ct);
        (await http.PutAsJsonAsync("/admin/faults", new { latencyMs = 0, dropAnswers = false, closeConnections = false, systemMalfunction = false }, ct))
            .EnsureSuccessStatusCode();
    }

    private static void Invariant(bool holds, string what)
    {
        if (!holds)
        {
            throw new InvalidOperationException($"Campaign invariant broken: {what}");
        }
    }
}

public sealed record CrashCampaignOptions(int Seed, int Faults, int Payers, string[] MerchantIds, TimeSpan DrainTimeout,
    int AuthorizationTimeoutMs, int PauseMsMin = 1_000, int PauseMsMax = 4_000);

public sealed record CrashFault(string Kind, string Target, double AtSeconds, double RecoveredInSeconds);

public sealed record InvariantCheck(string Name, bool Passed, string Detail);

public sealed record CrashReport(int Seed, TimeSpan LoadDuration, IReadOnlyList<CrashFault> Faults, IReadOnlyDictionary<string, long> Outcomes,
    IReadOnlyDictionary<string, long> OrdersByStatus, IReadOnlyList<InvariantCheck> Checks)
{
    public bool Passed => Checks.All(c => c.Passed);

    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"== crash campaign, seed {Seed}: {Faults.Count} faults over {LoadDuration.TotalSeconds:F0} s of load");
        text.AppendLine("| Fault | Target | Injected | Recovered in |");
        text.AppendLine("|---|---|---:|---:|");
        foreach (var f in Faults)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {f.Kind} | {f.Target} | {f.AtSeconds:F1} s | {f.RecoveredInSeconds:F1} s |");
        }
        text.AppendLine();
        text.AppendLine("| Purchase outcome (as the payer saw it) | Count |");
        text.AppendLine("|---|---:|");
        foreach (var (outcome, count) in Outcomes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {outcome} | {count} |");
        }
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Orders by final state: {string.Join(", ", OrdersByStatus.Select(o => $"{o.Key} {o.Value}"))}");
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

/// <summary>
/// What must hold once the platform is quiet, read from every service's own database and checked
/// order by order: the gateway's record, the switch's authorizations and reversals, the banks'
/// postings and the ledger's entries agree.
/// </summary>
public static class PlatformInvariants
{
    public static async Task<Dictionary<string, long>> OwedAsync(DistributedApplication app, string[] merchantIds, CancellationToken ct)
    {
        var owed = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var gateway = await OpenAsync(app, "gatewaydb", ct))
        {
            owed["payments unresolved"] = await ScalarAsync(gateway,
                "SELECT count(*) FROM payments WHERE merchant_id = ANY($1) AND status IN ('sent', 'unknown')", ct, merchantIds);
            owed["orders pending"] = await ScalarAsync(gateway, "SELECT count(*) FROM orders WHERE merchant_id = ANY($1) AND status = 'pending'", ct, merchantIds);
            owed["refunds pending"] = await ScalarAsync(gateway, "SELECT count(*) FROM refunds WHERE merchant_id = ANY($1) AND status = 'pending'", ct, merchantIds);
            owed["captures and releases pending"] = await ScalarAsync(gateway,
                "SELECT count(*) FROM hold_actions WHERE merchant_id = ANY($1) AND status = 'pending'", ct, merchantIds);
            owed["ledger events unrelayed"] = await ScalarAsync(gateway,
                "SELECT count(*) FROM outbox WHERE merchant_id = ANY($1) AND topic = 'settlement' AND delivered_at IS NULL", ct, merchantIds);
            owed["notifications owed"] = await ScalarAsync(gateway,
                """
                SELECT count(*) FROM outbox WHERE merchant_id = ANY($1) AND topic = 'notification'
                  AND delivered_at IS NULL AND given_up_at IS NULL AND superseded_at IS NULL
                """, ct, merchantIds);
        }
        await using (var cardSwitch = await OpenAsync(app, "switchdb", ct))
        {
            owed["reversals unacknowledged"] = await ScalarAsync(cardSwitch, "SELECT count(*) FROM reversals WHERE acknowledged_at IS NULL", ct);
            owed["requests unanswered"] = await ScalarAsync(cardSwitch, "SELECT count(*) FROM authorizations WHERE answered_at IS NULL", ct);
        }
        return owed;
    }

    /// <summary>Waits, polling each second, until nothing is owed (<see cref="OwedAsync"/>) or <paramref name="timeout"/> passes; what was last owed.</summary>
    public static async Task<(bool Quiet, string Detail)> DrainAsync(DistributedApplication app, string[] merchantIds, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        var detail = "";
        while (deadline.Elapsed < timeout)
        {
            var owed = await OwedAsync(app, merchantIds, ct);
            detail = string.Join(", ", owed.Select(o => $"{o.Key} {o.Value}"));
            if (owed.Values.All(v => v == 0))
            {
                return (true, detail);
            }
            await Task.Delay(1_000, ct);
        }
        return (false, detail);
    }

    public static async Task<IReadOnlyDictionary<string, long>> OrdersByStatusAsync(DistributedApplication app, string[] merchantIds, CancellationToken ct)
    {
        await using var gateway = await OpenAsync(app, "gatewaydb", ct);
        await using var read = new NpgsqlCommand("SELECT status, count(*) FROM orders WHERE merchant_id = ANY($1) GROUP BY status ORDER BY status", gateway);
        read.Parameters.Add(new NpgsqlParameter { Value = merchantIds });
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using var row = await read.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            counts[row.GetString(0)] = row.GetInt64(1);
        }
        return counts;
    }

    private sealed record GatewayOrder(string MerchantId, string OrderId, string Status, long AmountMinor, long PaidMinor, long RefundedMinor, int Version,
        bool IsHold)
    {
        public List<(string Stan, string Transmission, string Status)> Payments { get; } = [];

        public List<(string Stan, string Transmission, string Status, long AmountMinor, string Kind)> Refunds { get; } = [];

        /// <summary>A hold's captures (completions) and releases, as sent to the switch.</summary>
        public List<(string Stan, string Transmission, string Kind, string Status, long AmountMinor)> HoldActions { get; } = [];

        /// <summary>What the card's bank should still hold for this order: a hold not captured, released or expired.</summary>
        public long HeldMinor => IsHold && Status is "authorized" ? AmountMinor : 0;

        /// <summary>The requests the bank keys its postings for this order by.</summary>
        public IEnumerable<(string, string)> Keys => Payments.Select(p => (p.Stan, p.Transmission))
            .Concat(Refunds.Select(r => (r.Stan, r.Transmission))).Concat(HoldActions.Select(a => (a.Stan, a.Transmission)));

        /// <summary>Whether the merchant voided (撤销) the sale: its whole amount reversed at the issuer.</summary>
        public bool IsVoided => Refunds.Any(r => r.Kind == "void" && r.Status == "succeeded");

        /// <summary>Whether the order is in one final state, and its payments, captures and releases agree with it.</summary>
        public bool IsFinal()
        {
            var approved = Payments.Count(p => p.Status == "approved");
            var unresolved = Payments.Count(p => p.Status is "sent" or "unknown") + HoldActions.Count(a => a.Status == "pending");
            var captured = HoldActions.Where(a => a.Kind == "capture" && a.Status == "succeeded").ToList();
            var released = HoldActions.Count(a => a.Kind == "release" && a.Status != "failed");
            return unresolved == 0 && Refunds.All(r => r.Status != "pending") && (Status, IsHold) switch
            {
                ("paid", false) => approved == 1 && PaidMinor == AmountMinor && !IsVoided,
                ("voided", false) => approved == 1 && PaidMinor == AmountMinor && RefundedMinor == AmountMinor && IsVoided,
                ("paid", true) => approved == 1 && captured.Count == 1 && released == 0 && PaidMinor == captured[0].AmountMinor && PaidMinor <= AmountMinor,
                ("authorized", true) => approved == 1 && captured.Count == 0 && released == 0 && PaidMinor == 0,
                ("released" or "expired", true) => approved == 1 && captured.Count == 0 && released == 1 && PaidMinor == 0,
                ("failed" or "created" or "closed", _) => approved == 0 && PaidMinor == 0 && HoldActions.Count == 0,
                _ => false,
            };
        }
    }

    public static async Task<List<InvariantCheck>> CheckAsync(DistributedApplication app, string[] merchantIds, CancellationToken ct)
    {
        var orders = await GatewayOrdersAsync(app, merchantIds, ct);
        var (switchAnswers, switchReversed) = await SwitchRecordsAsync(app, ct);
        var bankNet = await BankPostingsAsync(app, ct);
        var ledgerNet = new Dictionary<(string, string), long>();
        var ledgerPurchases = new Dictionary<(string, string), int>();
        await using (var settlement = await OpenAsync(app, "settlementdb", ct))
        {
            await using var read = new NpgsqlCommand(
                """
                SELECT merchant_id, order_id, kind, amount_minor FROM journal_entries
                WHERE merchant_id = ANY($1) AND kind IN ('purchase', 'refund', 'reversal')
                """, settlement);
            read.Parameters.Add(new NpgsqlParameter { Value = merchantIds });
            await using var row = await read.ExecuteReaderAsync(ct);
            while (await row.ReadAsync(ct))
            {
                var key = (row.GetString(0), row.GetString(1));
                var purchase = row.GetString(2) == "purchase";
                ledgerNet[key] = ledgerNet.GetValueOrDefault(key) + (purchase ? row.GetInt64(3) : -row.GetInt64(3));
                ledgerPurchases[key] = ledgerPurchases.GetValueOrDefault(key) + (purchase ? 1 : 0);
            }
        }

        var notFinal = new List<string>();
        var disagree = new List<string>();
        var debitedTwice = new List<string>();
        foreach (var order in orders)
        {
            var name = $"{order.MerchantId}/{order.OrderId}";
            if (!order.IsFinal())
            {
                notFinal.Add($"{name} ({(order.IsHold ? "hold" : "sale")}) is {order.Status} with payments [{string.Join(' ', order.Payments.Select(p => p.Status))}]"
                    + $" and hold actions [{string.Join(' ', order.HoldActions.Select(a => $"{a.Kind}:{a.Status}"))}]");
            }

            // What each record says the merchant is owed for this order, net of refunds, and what the bank holds for it.
            var gatewayNet = order.PaidMinor - order.RefundedMinor;
            var keys = order.Keys.ToList();
            var banksNet = -keys.Sum(k => bankNet.GetValueOrDefault(k).DebitedMinor);
            var banksHeld = keys.Sum(k => bankNet.GetValueOrDefault(k).HeldMinor);
            var ledger = ledgerNet.GetValueOrDefault((order.MerchantId, order.OrderId));
            // A released hold's approval stays approved at the switch, and its release is the reversal the bank acknowledged; any
            // other approval a reversal undid is none. A void is its own reversal (0420) at the switch, answered 00.
            var released = order.HoldActions.Any(a => a.Kind == "release" && a.Status != "failed");
            var voids = order.Refunds.Where(r => r.Kind == "void" && r.Status == "succeeded").ToList();
            var approved = order.Payments.Count(p => p.Status == "approved") + order.HoldActions.Count(a => a.Kind == "capture" && a.Status == "succeeded")
                + voids.Count;
            var switchApproved = order.Payments.Count(p => switchAnswers.GetValueOrDefault((p.Stan, p.Transmission)) == "00"
                    && switchReversed.Contains((p.Stan, p.Transmission)) == released)
                + order.HoldActions.Count(a => a.Kind == "capture" && switchAnswers.GetValueOrDefault((a.Stan, a.Transmission)) == "00"
                    && !switchReversed.Contains((a.Stan, a.Transmission)))
                + voids.Count(v => switchAnswers.GetValueOrDefault((v.Stan, v.Transmission)) == "00");
            if (gatewayNet != banksNet || gatewayNet != ledger || switchApproved != approved || order.HeldMinor != banksHeld)
            {
                disagree.Add($"{name}: gateway {gatewayNet} (holds {order.HeldMinor}), banks {banksNet} (holds {banksHeld}), ledger {ledger}, "
                    + $"switch approved {switchApproved} vs gateway {approved}");
            }
            var debits = keys.Count(k => bankNet.GetValueOrDefault(k).DebitedMinor < 0);
            if (debits > 1 || ledgerPurchases.GetValueOrDefault((order.MerchantId, order.OrderId)) > 1)
            {
                debitedTwice.Add($"{name}: {debits} debits at the bank, {ledgerPurchases.GetValueOrDefault((order.MerchantId, order.OrderId))} ledger purchases");
            }
        }

        var checks = new List<InvariantCheck>
        {
            Check($"every order is in exactly one final state ({orders.Count} orders)", notFinal),
            Check("gateway, switch, banks and ledger agree on every order", disagree),
            Check("no card was debited twice for one order", debitedTwice),
        };

        using (var settlementHttp = await app.CreateCallerHttpClientAsync("settlement"))
        {
            using var verified = await settlementHttp.PostAsync("/admin/ledger/verify", null, ct);
            var body = await verified.Content.ReadFromJsonAsync<JsonElement>(ct);
            var ok = verified.IsSuccessStatusCode && body.GetProperty("ok").GetBoolean() && body.GetProperty("ledgerSumMinor").GetInt64() == 0;
            checks.Add(new InvariantCheck("the ledger balances (every entry and all lines sum to zero, balances match)", ok,
                $"sum {body.GetProperty("ledgerSumMinor").GetInt64()} over {body.GetProperty("entries").GetInt64()} entries; problems: {body.GetProperty("problems").GetArrayLength()}"));
        }
        await using (var cardSwitch = await OpenAsync(app, "switchdb", ct))
        {
            var open = await ScalarAsync(cardSwitch, "SELECT count(*) FROM reversals WHERE acknowledged_at IS NULL", ct);
            var all = await ScalarAsync(cardSwitch, "SELECT count(*) FROM reversals", ct);
            checks.Add(new InvariantCheck("no reversal is left unacknowledged", open == 0, $"{all} advices queued, {open} unacknowledged"));
        }
        await using (var gateway = await OpenAsync(app, "gatewaydb", ct))
        {
            // The latest state of every order that reached one was delivered to its merchant.
            var untold = await ScalarAsync(gateway,
                """
                SELECT count(*) FROM orders o WHERE o.merchant_id = ANY($1) AND o.status IN ('paid', 'failed', 'authorized', 'released', 'expired', 'voided', 'closed')
                AND NOT EXISTS (SELECT 1 FROM outbox n WHERE n.merchant_id = o.merchant_id AND n.order_id = o.order_id AND n.topic = 'notification'
                                AND n.delivered_at IS NOT NULL AND n.order_version = o.version)
                """, ct, merchantIds);
            var final = orders.Count(o => o.Status is "paid" or "failed" or "authorized" or "released" or "expired" or "voided" or "closed");
            checks.Add(new InvariantCheck("every merchant was told the final state", untold == 0, $"{final - untold} of {final} final orders delivered"));
        }
        return checks;
    }

    private static InvariantCheck Check(string name, List<string> broken) =>
        new(name, broken.Count == 0, broken.Count == 0 ? "none broken" : $"{broken.Count} broken, e.g. {string.Join("; ", broken.Take(3))}");

    private static async Task<List<GatewayOrder>> GatewayOrdersAsync(DistributedApplication app, string[] merchantIds, CancellationToken ct)
    {
        await using var gateway = await OpenAsync(app, "gatewaydb", ct);
        var orders = new Dictionary<(string, string), GatewayOrder>();
        await using (var read = new NpgsqlCommand(
            "SELECT merchant_id, order_id, status, amount_minor, paid_minor, refunded_minor, version, capture_mode = 'hold' FROM orders WHERE merchant_id = ANY($1)",
            gateway))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = merchantIds });
            await using var row = await read.ExecuteReaderAsync(ct);
            while (await row.ReadAsync(ct))
            {
                orders[(row.GetString(0), row.GetString(1))] = new GatewayOrder(row.GetString(0), row.GetString(1), row.GetString(2), row.GetInt64(3),
                    row.GetInt64(4), row.GetInt64(5), row.GetInt32(6), row.GetBoolean(7));
            }
        }
        await using (var read = new NpgsqlCommand("SELECT merchant_id, order_id, stan, transmission, status FROM payments WHERE merchant_id = ANY($1)", gateway))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = merchantIds });
            await using var row = await read.ExecuteReaderAsync(ct);
            while (await row.ReadAsync(ct))
            {
                orders[(row.GetString(0), row.GetString(1))].Payments.Add((row.GetString(2), row.GetString(3), row.GetString(4)));
            }
        }
        await using (var read = new NpgsqlCommand(
            "SELECT merchant_id, order_id, stan, transmission, status, amount_minor, kind FROM refunds WHERE merchant_id = ANY($1)", gateway))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = merchantIds });
            await using var row = await read.ExecuteReaderAsync(ct);
            while (await row.ReadAsync(ct))
            {
                orders[(row.GetString(0), row.GetString(1))].Refunds.Add((row.GetString(2), row.GetString(3), row.GetString(4), row.GetInt64(5), row.GetString(6)));
            }
        }
        await using (var read = new NpgsqlCommand(
            "SELECT merchant_id, order_id, stan, transmission, kind, status, amount_minor FROM hold_actions WHERE merchant_id = ANY($1)", gateway))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = merchantIds });
            await using var row = await read.ExecuteReaderAsync(ct);
            while (await row.ReadAsync(ct))
            {
                orders[(row.GetString(0), row.GetString(1))].HoldActions.Add((row.GetString(2), row.GetString(3), row.GetString(4), row.GetString(5), row.GetInt64(6)));
            }
        }
        return [.. orders.Values];
    }

    /// <summary>The switch's first answer to each request, and the requests whose reversal a bank acknowledged.</summary>
    private static async Task<(Dictionary<(string, string), string> Answers, HashSet<(string, string)> Reversed)> SwitchRecordsAsync(
        DistributedApplication app, CancellationToken ct)
    {
        await using var cardSwitch = await OpenAsync(app, "switchdb", ct);
        var answers = new Dictionary<(string, string), string>();
        await using (var read = new NpgsqlCommand("SELECT stan, transmission, coalesce(response_code, '') FROM authorizations", cardSwitch))
        await using (var row = await read.ExecuteReaderAsync(ct))
        {
            while (await row.ReadAsync(ct))
            {
                answers[(row.GetString(0), row.GetString(1))] = row.GetString(2);
            }
        }
        var reversed = new HashSet<(string, string)>();
        await using (var read = new NpgsqlCommand("SELECT stan, transmission FROM reversals WHERE advice_mti = '0420' AND acknowledged_at IS NOT NULL", cardSwitch))
        await using (var row = await read.ExecuteReaderAsync(ct))
        {
            while (await row.ReadAsync(ct))
            {
                reversed.Add((row.GetString(0), row.GetString(1)));
            }
        }
        return (answers, reversed);
    }

    /// <summary>What every bank's postings moved per request (on the balance, and on the amount held), over all the banks' schemas.</summary>
    private static async Task<Dictionary<(string, string), (long DebitedMinor, long HeldMinor)>> BankPostingsAsync(DistributedApplication app, CancellationToken ct)
    {
        await using var banks = await OpenAsync(app, "issuerdb", ct);
        var schemas = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bank\\_%' ORDER BY nspname", banks))
        await using (var row = await list.ExecuteReaderAsync(ct))
        {
            while (await row.ReadAsync(ct))
            {
                schemas.Add(row.GetString(0));
            }
        }
        var net = new Dictionary<(string, string), (long DebitedMinor, long HeldMinor)>();
        foreach (var schema in schemas)
        {
            await using var read = new NpgsqlCommand(
                $"SELECT stan, transmission, sum(balance_delta_minor)::bigint, sum(held_delta_minor)::bigint FROM \"{schema}\".postings GROUP BY stan, transmission",
                banks);
            await using var row = await read.ExecuteReaderAsync(ct);
            while (await row.ReadAsync(ct))
            {
                var key = (row.GetString(0), row.GetString(1));
                var (debited, held) = net.GetValueOrDefault(key);
                net[key] = (debited + row.GetInt64(2), held + row.GetInt64(3));
            }
        }
        return net;
    }

    private static async Task<NpgsqlConnection> OpenAsync(DistributedApplication app, string database, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(await app.GetConnectionStringAsync(database, ct));
        await connection.OpenAsync(ct);
        return connection;
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken ct, string[]? merchantIds = null)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (merchantIds is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = merchantIds });
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }
}
