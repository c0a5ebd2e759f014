using System.Text.Json;
using Mesh.Contracts.Settlement;
using Mesh.Gateway.Options;
using Mesh.ServiceDefaults.Background;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Outbox;

/// <summary>
/// Hands the outbox's settlement rows to the ledger, oldest first, in batches: rows are claimed
/// with <c>FOR UPDATE SKIP LOCKED</c> inside a transaction that marks them delivered only once
/// settlement has taken them, so replicas share the work. Settlement is idempotent by
/// transaction id (<c>gw-</c> and the row's id): a batch sent again after a crash posts nothing twice.
/// A writer rings it once its rows are committed (<see cref="Wake"/>); rings closer than
/// <see cref="RoundsApartMin"/> share a round, so under load a round carries many rows. The
/// fallback poll (<see cref="GatewayOptions.SettlementRelayPollMs"/>) finds the rows nobody rang for:
/// another replica's, one that stopped, a writer that does not ring.
/// </summary>
public sealed class SettlementRelay(
    NpgsqlDataSource db,
    Settlement.SettlementClient settlement,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SettlementRelay> logger) : BackgroundService
{
    public const int BatchSizeMax = 500;

    /// <summary>Rounds that did not take a full batch start at least this far apart: half a second of a busy gateway's rows in one batch.</summary>
    public static readonly TimeSpan RoundsApartMin = TimeSpan.FromMilliseconds(500);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly WorkSignal _written = new();

    /// <summary>Settlement rows were committed: the relay hands them over now rather than at its fallback poll.</summary>
    public void Wake() => _written.Wake();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(async ct => await RelayAsync(ct) >= BatchSizeMax ? NextRound.AtOnce : NextRound.WhenWoken, _written,
            () => TimeSpan.FromMilliseconds(options.Value.SettlementRelayPollMs), RoundsApartMin, time, logger, "Handing settlement rows to the ledger",
            stoppingToken);

    public async Task<int> RelayAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var claim = new NpgsqlCommand(
            """
            SELECT x.outbox_id, x.payload::text, m.fee_rate_ppm, m.fee_minimum_minor, coalesce(m.settlement_account, ''), coalesce(m.settlement_bank, '')
            FROM outbox x JOIN merchants m ON m.merchant_id = x.merchant_id
            WHERE x.topic = 'settlement' AND x.delivered_at IS NULL
            ORDER BY x.outbox_id LIMIT $1 FOR UPDATE OF x SKIP LOCKED
            """, connection, tx);
        BatchSql.Bind(claim, BatchSizeMax);
        var request = new RecordRequest();
        var ids = new List<long>();
        await using (var row = await claim.ExecuteReaderAsync(ct))
        {
            while (await row.ReadAsync(ct))
            {
                var e = JsonSerializer.Deserialize<OutboxEvent>(row.GetString(1), Json)!;
                ids.Add(row.GetInt64(0));
                request.Events.Add(new LedgerEvent
                {
                    TransactionId = $"gw-{row.GetInt64(0)}",
                    Kind = e.Kind,
                    Status = e.Status,
                    MerchantId = e.MerchantId,
                    OrderId = e.OrderId,
                    IssuerId = e.IssuerId ?? "unknown",
                    AmountMinor = e.AmountMinor,
                    Currency = e.Currency,
                    FeeRatePpm = row.GetInt32(2),
                    FeeMinimumMinor = row.GetInt64(3),
                    PayoutAccount = row.GetString(4),
                    PayoutBank = row.GetString(5),
                    OccurredAtUnixMs = e.At.ToUnixTimeMilliseconds(),
                    PanMasked = e.PanMasked ?? "",
                    Rrn = e.Rrn ?? "",
                    Stan = e.Stan,
                    Transmission = e.Transmission,
                    Traceparent = e.Traceparent ?? "",
                });
            }
        }
        if (ids.Count == 0)
        {
            return 0;
        }
        await settlement.RecordAsync(request, cancellationToken: ct);
        await using var delivered = new NpgsqlCommand("UPDATE outbox SET delivered_at = $2 WHERE outbox_id = ANY($1)", connection, tx);
        BatchSql.Bind(delivered, ids.ToArray(), time.GetUtcNow());
        await delivered.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return ids.Count;
    }
}
