using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.ServiceDefaults.Background;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Holds;

/// <summary>
/// Releases holds past their expiry (<see cref="GatewayOptions.HoldExpiryDays"/> after they were
/// approved) in the background, a bounded batch a round, each through <see cref="HoldDesk.ReleaseAsync"/>:
/// the order becomes expired, the merchant is told, and the bank gets the reversal. Replicas may look
/// at the same holds; the order's row decides (authorized → expired once), so exactly one of them
/// releases each. Between rounds it sleeps until the earliest expiry of the holds still standing, or
/// its fallback poll (<see cref="GatewayOptions.HoldExpiryPollMs"/>), which finds holds approved since.
/// </summary>
public sealed class HoldExpiry(NpgsqlDataSource db, HoldDesk desk, IOptions<GatewayOptions> options, TimeProvider time, ILogger<HoldExpiry> logger)
    : BackgroundService
{
    public const int BatchSizeMax = 100;

    /// <summary>Rounds that did not release a full batch start at least this far apart: a guard against an expiry that stays due.</summary>
    public static readonly TimeSpan RoundsApartMin = TimeSpan.FromMilliseconds(250);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(RoundAsync, signal: null, () => TimeSpan.FromMilliseconds(options.Value.HoldExpiryPollMs), RoundsApartMin, time, logger,
            "Releasing expired holds", stoppingToken);

    private async Task<NextRound> RoundAsync(CancellationToken ct) =>
        await ExpireDueAsync(ct) >= BatchSizeMax
            ? NextRound.AtOnce
            : NextRound.Due(await DueTimes.EarliestAsync(db, $"SELECT min(hold_expires_at) FROM orders WHERE status = '{OrderStatus.Authorized}'", ct));

    /// <summary>Releases the holds past their expiry, at most <see cref="BatchSizeMax"/>; how many this replica released.</summary>
    public async Task<int> ExpireDueAsync(CancellationToken ct)
    {
        await using var due = db.CreateCommand(
            $"""
            SELECT merchant_id, order_id FROM orders WHERE status = '{OrderStatus.Authorized}' AND hold_expires_at <= $1
            ORDER BY hold_expires_at LIMIT $2
            """);
        BatchSql.Bind(due, time.GetUtcNow(), BatchSizeMax);
        var expired = new List<(string MerchantId, string OrderId)>();
        await using (var row = await due.ExecuteReaderAsync(ct))
        {
            while (await row.ReadAsync(ct))
            {
                expired.Add((row.GetString(0), row.GetString(1)));
            }
        }
        var released = 0;
        foreach (var (merchantId, orderId) in expired)
        {
            released += (await desk.ReleaseAsync(merchantId, orderId, HoldReason.Expired, ct)).Outcome == HoldDesk.Outcome.Released ? 1 : 0;
        }
        if (released > 0)
        {
            logger.LogInformation("Released {Count} holds past their expiry", released);
        }
        return released;
    }
}
