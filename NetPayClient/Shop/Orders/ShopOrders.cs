using Mesh.NetPay.Notifications;
using Npgsql;

namespace Mesh.Shop.Orders;

public sealed record ShopOrder(string OrderId, long AmountMinor, string Currency, string Items, string Status, long OrderVersion, string? MaskedPan,
    long RefundedMinor, DateTimeOffset CreatedAt);

/// <summary>
/// The shop's orders in shopdb. The platform's news about an order (a notification, or the answer
/// to a query) is applied only when its order version is newer than what the shop has, so a late
/// duplicate never takes an order back.
/// </summary>
public sealed class ShopOrders(NpgsqlDataSource db, TimeProvider time)
{
    public const int ListedMax = 100;

    public async Task CreateAsync(string orderId, long amountMinor, string currency, string items, CancellationToken ct)
    {
        await using var insert = db.CreateCommand(
            "INSERT INTO shop_orders (order_id, amount_minor, currency, items, status, created_at, updated_at) VALUES ($1, $2, $3, $4, 'created', $5, $5)");
        insert.Parameters.Add(new() { Value = orderId });
        insert.Parameters.Add(new() { Value = amountMinor });
        insert.Parameters.Add(new() { Value = currency });
        insert.Parameters.Add(new() { Value = items });
        insert.Parameters.Add(new() { Value = time.GetUtcNow() });
        await insert.ExecuteNonQueryAsync(ct);
    }

    public async Task<ShopOrder?> FindAsync(string orderId, CancellationToken ct)
    {
        await using var select = db.CreateCommand($"{Select} WHERE order_id = $1");
        select.Parameters.Add(new() { Value = orderId });
        return (await ReadAsync(select, ct)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<ShopOrder>> LatestAsync(CancellationToken ct)
    {
        await using var select = db.CreateCommand($"{Select} ORDER BY created_at DESC LIMIT {ListedMax}");
        return await ReadAsync(select, ct);
    }

    /// <summary>Applies the platform's view of an order when it is newer than the shop's; true when it changed anything.</summary>
    public async Task<bool> ApplyAsync(string orderId, long orderVersion, string status, string? maskedPan, long? refundedMinor, CancellationToken ct)
    {
        await using var update = db.CreateCommand(
            """
            UPDATE shop_orders SET status = $2, order_version = $3, masked_pan = coalesce($4, masked_pan),
                refunded_minor = coalesce($5, refunded_minor), updated_at = $6
            WHERE order_id = $1 AND order_version < $3
            """);
        update.Parameters.Add(new() { Value = orderId });
        update.Parameters.Add(new() { Value = status });
        update.Parameters.Add(new() { Value = orderVersion });
        update.Parameters.Add(new() { Value = (object?)maskedPan ?? DBNull.Value });
        update.Parameters.Add(new() { Value = (object?)refundedMinor ?? DBNull.Value });
        update.Parameters.Add(new() { Value = time.GetUtcNow() });
        return await update.ExecuteNonQueryAsync(ct) == 1;
    }

    private const string Select =
        "SELECT order_id, amount_minor, currency, items, status, order_version, masked_pan, refunded_minor, created_at FROM shop_orders";

    private static async Task<IReadOnlyList<ShopOrder>> ReadAsync(NpgsqlCommand select, CancellationToken ct)
    {
        var orders = new List<ShopOrder>();
        await using var row = await select.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            orders.Add(new ShopOrder(row.GetString(0), row.GetInt64(1), row.GetString(2), row.GetString(3), row.GetString(4), row.GetInt64(5),
                row.IsDBNull(6) ? null : row.GetString(6), row.GetInt64(7), row.GetFieldValue<DateTimeOffset>(8)));
        }
        return orders;
    }
}

/// <summary>The SDK's notification inbox in shopdb: a notification id is claimed by inserting it, so a restart does not forget it.</summary>
public sealed class DatabaseNotificationInbox(NpgsqlDataSource db, TimeProvider time) : INotificationInbox
{
    public async ValueTask<bool> TryClaimAsync(string notificationId, CancellationToken ct)
    {
        await using var insert = db.CreateCommand("INSERT INTO shop_notifications (notification_id, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING");
        insert.Parameters.Add(new() { Value = notificationId });
        insert.Parameters.Add(new() { Value = time.GetUtcNow() });
        return await insert.ExecuteNonQueryAsync(ct) == 1;
    }

    public async ValueTask ReleaseAsync(string notificationId, CancellationToken ct)
    {
        await using var delete = db.CreateCommand("DELETE FROM shop_notifications WHERE notification_id = $1");
        delete.Parameters.Add(new() { Value = notificationId });
        await delete.ExecuteNonQueryAsync(ct);
    }
}
