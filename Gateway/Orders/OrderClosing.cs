using Mesh.Gateway.Notifications;
using Mesh.Gateway.Options;
using Mesh.Gateway.Outbox;
using Mesh.ServiceDefaults.Background;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Orders;

/// <summary>
/// Closes orders that end unpaid (<see cref="OrderLifetime"/>): a merchant's close, and, in the
/// background, created orders past their pay-by time, a bounded batch a round. A close is one
/// statement: the order's new state and version and its merchant's notification in the outbox
/// (a closed order moved no money: nothing goes to settlement). The order's row decides: a payment
/// claims it only while it is created and before its pay-by time, a close only while it is created
/// (or failed), so of a payment and a close racing exactly one takes it. Replicas share the
/// background work: each round claims its orders with <c>FOR UPDATE SKIP LOCKED</c>. Between rounds
/// it sleeps until the earliest pay-by time of the orders still open, or its fallback poll
/// (<see cref="GatewayOptions.CloseExpiredPollMs"/>), which finds orders created since. A close
/// owes a notification: it rings the dispatcher.
/// </summary>
public sealed class OrderClosing(
    NpgsqlDataSource db,
    OrderBook orders,
    NotificationDispatcher notifications,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<OrderClosing> logger) : BackgroundService
{
    public const int BatchSizeMax = 100;

    /// <summary>Rounds that did not close a full batch start at least this far apart: a guard against a pay-by time that stays due.</summary>
    public static readonly TimeSpan RoundsApartMin = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The close of the orders in <c>target (merchant_id, order_id)</c> that are in one of the states $2, at $1 with the
    /// message $3; $4 is the notification's payload without the order's own fields. Its rows are <c>closed</c>.
    /// </summary>
    private static readonly string CloseSql =
        $"""
        , closed AS (
            UPDATE orders o SET status = '{OrderStatus.Closed}', version = o.version + 1, response_code = NULL, result_message = $3, updated_at = $1
            FROM target t WHERE o.merchant_id = t.merchant_id AND o.order_id = t.order_id AND o.status = ANY($2)
            RETURNING o.merchant_id, o.order_id, o.version, o.amount_minor, o.currency),
        told AS (
            INSERT INTO outbox (topic, merchant_id, order_id, order_version, payload, created_at, next_attempt_at)
            SELECT '{OutboxRows.Notification}', c.merchant_id, c.order_id, c.version, $4::jsonb || {OutboxRows.OrderFieldsSql("c")}, $1, $1
            FROM closed c)
        SELECT count(*)::int FROM closed
        """;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(RoundAsync, signal: null, () => TimeSpan.FromMilliseconds(options.Value.CloseExpiredPollMs), RoundsApartMin, time, logger,
            "Closing orders past their pay-by time", stoppingToken);

    /// <summary>One round: at once again after a full batch, else when the earliest open order's pay-by time comes.</summary>
    private async Task<NextRound> RoundAsync(CancellationToken ct) =>
        await CloseExpiredAsync(ct) >= BatchSizeMax
            ? NextRound.AtOnce
            : NextRound.Due(await DueTimes.EarliestAsync(db, $"SELECT min(pay_by) FROM orders WHERE status = '{OrderStatus.Created}'", ct));

    /// <summary>Closes created orders past their pay-by time, at most <see cref="BatchSizeMax"/>; how many it closed.</summary>
    public async Task<int> CloseExpiredAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var close = db.CreateCommand(
            $"""
            WITH target AS (
                SELECT merchant_id, order_id FROM orders WHERE status = '{OrderStatus.Created}' AND pay_by <= $1
                ORDER BY pay_by LIMIT $5 FOR UPDATE SKIP LOCKED)
            {CloseSql}
            """);
        BatchSql.Bind(close, now, new[] { OrderStatus.Created }, OrderLifetime.ExpiredMessage, Payload(now), BatchSizeMax);
        var closed = (int)(await close.ExecuteScalarAsync(ct))!;
        if (closed > 0)
        {
            notifications.Wake();
            logger.LogInformation("Closed {Count} orders past their pay-by time", closed);
        }
        return closed;
    }

    /// <summary>
    /// A merchant's close: the order's row is locked, what closing it does is decided by its state, and a closable order is
    /// closed in the same transaction. The order as it then is comes back (null when there is no such order).
    /// </summary>
    public async Task<(OrderLifetime.Closing Closing, Order? Order)> CloseAsync(string merchantId, string orderId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        OrderLifetime.Closing closing;
        await using (var connection = await db.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            await using var lockOrder = new NpgsqlCommand("SELECT status FROM orders WHERE merchant_id = $1 AND order_id = $2 FOR UPDATE", connection, tx);
            BatchSql.Bind(lockOrder, merchantId, orderId);
            if (await lockOrder.ExecuteScalarAsync(ct) is not string status)
            {
                return (OrderLifetime.Closing.NoSuchOrder, null);
            }
            closing = OrderLifetime.OnClose(status);
            if (closing == OrderLifetime.Closing.Closed)
            {
                await using var close = new NpgsqlCommand($"WITH target AS (SELECT $5::text AS merchant_id, $6::text AS order_id) {CloseSql}", connection, tx);
                BatchSql.Bind(close, now, OrderLifetime.Closable, OrderLifetime.ClosedByMerchantMessage, Payload(now), merchantId, orderId);
                await close.ExecuteScalarAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
        if (closing == OrderLifetime.Closing.Closed)
        {
            notifications.Wake();
            logger.LogInformation("Order {OrderId} of merchant {MerchantId} closed by the merchant", orderId, merchantId);
        }
        return (closing, await orders.FindAsync(merchantId, orderId, ct));
    }

    /// <summary>A closed order's notification payload, without the order's own fields (the statement fills them in).</summary>
    private static NpgsqlParameter Payload(DateTimeOffset now) =>
        OutboxRows.Jsonb(OutboxRows.Payload(new OutboxEvent("purchase", "", "", 0, OrderStatus.Closed, 0, "", null, null, "", "", null, null, null, now)));
}
