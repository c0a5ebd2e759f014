using System.Diagnostics;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Contracts.Settlement;
using Mesh.Contracts.Switch;
using Npgsql;

namespace Mesh.Gateway.Diagnostics;

/// <summary>One hop's answer: whether it is up, how long it took, and what it said.</summary>
public sealed record HopReport(string Name, bool Ok, double LatencyMs, string Detail);

public sealed record DiagnosticsReport(bool Ok, string TraceId, IReadOnlyList<HopReport> Hops);

/// <summary>Walks every hop of the platform once: the thin slice the walking skeleton proves.</summary>
public sealed class DiagnosticsProbe(
    Hsm.HsmClient hsm,
    CardSwitch.CardSwitchClient cardSwitch,
    Settlement.SettlementClient settlement,
    NpgsqlDataSource db,
    TimeProvider time,
    ILogger<DiagnosticsProbe> logger)
{
    public const int HopTimeoutMs = 10_000;

    public async Task<DiagnosticsReport> RunAsync(CancellationToken ct)
    {
        var hops = await Task.WhenAll(
            ProbeHsmAsync(ct),
            ProbeSwitchAsync(ct),
            ProbeSettlementAsync(ct),
            ProbeDatabaseAsync(ct));
        var all = hops.SelectMany(h => h).ToList();
        var report = new DiagnosticsReport(all.All(h => h.Ok), Activity.Current?.TraceId.ToString() ?? "", all);
        logger.LogInformation("Diagnostics: {Up}/{Total} hops up", all.Count(h => h.Ok), all.Count);
        return report;
    }

    private async Task<IEnumerable<HopReport>> ProbeHsmAsync(CancellationToken ct) =>
        await TimeAsync("hsm", async deadline =>
        {
            var reply = await hsm.DiagnosticsAsync(new HsmDiagnosticsRequest(), deadline: deadline, cancellationToken: ct);
            return $"LMK {reply.LmkAlgorithm} check value {reply.LmkCheckValue}, {reply.KeyCount} keys, {reply.FirmwareVersion}";
        });

    private async Task<IEnumerable<HopReport>> ProbeSwitchAsync(CancellationToken ct)
    {
        var started = time.GetTimestamp();
        try
        {
            var reply = await cardSwitch.EchoIssuersAsync(new EchoIssuersRequest(), deadline: Deadline(), cancellationToken: ct);
            var switchHop = new HopReport("switch", true, Elapsed(started), $"{reply.Issuers.Count} issuer links");
            return reply.Issuers
                .Select(i => new HopReport(i.Hop.Name, i.Hop.Ok, i.Hop.LatencyMs, $"bank {i.BankId}, STAN {i.Stan}: {i.Hop.Detail}"))
                .Prepend(switchHop)
                .ToList();
        }
        catch (RpcException ex)
        {
            return [new HopReport("switch", false, Elapsed(started), $"{ex.StatusCode}: {ex.Status.Detail}")];
        }
    }

    private async Task<IEnumerable<HopReport>> ProbeSettlementAsync(CancellationToken ct) =>
        await TimeAsync("settlement", async deadline =>
        {
            var reply = await settlement.DiagnosticsAsync(new SettlementDiagnosticsRequest(), deadline: deadline, cancellationToken: ct);
            return reply.DatabaseOk
                ? $"settlementdb PostgreSQL {reply.DatabaseVersion} answered in {reply.DatabaseLatencyMs:F1} ms"
                : throw new RpcException(new Status(StatusCode.FailedPrecondition, "settlementdb has no schema"));
        });

    private async Task<IEnumerable<HopReport>> ProbeDatabaseAsync(CancellationToken ct)
    {
        var started = time.GetTimestamp();
        try
        {
            await using var command = db.CreateCommand("SELECT current_setting('server_version')");
            var version = (string)(await command.ExecuteScalarAsync(ct))!;
            return [new HopReport("gatewaydb", true, Elapsed(started), $"PostgreSQL {version}")];
        }
        catch (NpgsqlException ex)
        {
            return [new HopReport("gatewaydb", false, Elapsed(started), ex.Message)];
        }
    }

    private async Task<IEnumerable<HopReport>> TimeAsync(string name, Func<DateTime, Task<string>> call)
    {
        var started = time.GetTimestamp();
        try
        {
            var detail = await call(Deadline());
            return [new HopReport(name, true, Elapsed(started), detail)];
        }
        catch (RpcException ex)
        {
            return [new HopReport(name, false, Elapsed(started), $"{ex.StatusCode}: {ex.Status.Detail}")];
        }
    }

    private DateTime Deadline() => time.GetUtcNow().UtcDateTime.AddMilliseconds(HopTimeoutMs);

    private double Elapsed(long started) => Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 2);
}
