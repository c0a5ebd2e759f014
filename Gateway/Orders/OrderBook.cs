using System.Data.Common;
using Mesh.Gateway.Metrics;
using Mesh.Gateway.Options;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Orders;

/// <summary>
/// Orders in gatewaydb, keyed by merchant and order number. Opening an order is idempotent: the
/// same order again is the same order; a paid or pending one is a duplicate; a failed one may be
/// paid again (as NetPay allows), which starts a new attempt with a higher version. Each attempt has
/// its pay-by time (<see cref="OrderLifetime"/>); the same order again keeps the one it has.
/// </summary>
public sealed class OrderBook(NpgsqlDataSource db, GatewayMetrics metrics, IOptions<GatewayOptions> options, TimeProvider time)
{
    public const int ListLimitMax = 100;

    public enum Opening
    {
        Opened,
        Reopened,
        AlreadyOpen,
        Duplicate,
    }

    /// <summary>An order's columns as <see cref="Read"/> reads them, from <c>orders o</c> joined with <see cref="LatestPayment"/>.</summary>
    public const string SelectList =
        """
        o.merchant_id, o.order_id, o.protocol, o.amount_minor, o.currency, o.trans_date, o.trans_type, o.netpay_version, o.bg_ret_url,
        o.page_ret_url, o.gate_id, o.priv1, o.status, o.version, o.attempts, o.response_code, o.result_message, o.paid_minor,
        o.refunded_minor, o.created_at, o.updated_at, o.paid_at, p.pan_masked, p.auth_code, p.rrn, o.pay_by, o.wrong_pins, o.capture_mode,
        o.hold_expires_at
        """;

    /// <summary>The join that gives an order (<c>o</c>) its latest payment's card, authorization code and RRN (<c>p</c>).</summary>
    public const string LatestPayment =
        """
        LEFT JOIN LATERAL (
            SELECT pan_masked, auth_code, rrn FROM payments p WHERE p.merchant_id = o.merchant_id AND p.order_id = o.order_id
            ORDER BY payment_id DESC LIMIT 1) p ON true
        """;

    private const string Columns = SelectList + " FROM orders o " + LatestPayment;

    public async Task<(Opening Opening, Order Order)> OpenAsync(OrderRequest request, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        // The order as it now is, in the same round trip: the row written, or the one already there.
        await using var open = db.CreateCommand(
            $"""
            WITH written AS (
                INSERT INTO orders AS o (merchant_id, order_id, protocol, amount_minor, currency, trans_date, trans_type, netpay_version, bg_ret_url,
                                         page_ret_url, gate_id, priv1, status, created_at, updated_at, notification_mode, pay_by, capture_mode)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'created', $13, $13, $14, $15, $16)
                ON CONFLICT (merchant_id, order_id) DO UPDATE SET
                    protocol = EXCLUDED.protocol, amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency, trans_date = EXCLUDED.trans_date,
                    trans_type = EXCLUDED.trans_type, netpay_version = EXCLUDED.netpay_version, bg_ret_url = EXCLUDED.bg_ret_url,
                    page_ret_url = EXCLUDED.page_ret_url, gate_id = EXCLUDED.gate_id, priv1 = EXCLUDED.priv1, status = 'created',
                    notification_mode = EXCLUDED.notification_mode, pay_by = EXCLUDED.pay_by, capture_mode = EXCLUDED.capture_mode,
                    version = o.version + 1, attempts = o.attempts + 1, response_code = NULL, result_message = NULL, updated_at = EXCLUDED.updated_at
                WHERE o.status = 'failed'
                RETURNING o.*, o.xmax = 0 AS fresh
            )
            SELECT o.fresh, {SelectList} FROM written o {LatestPayment}
            UNION ALL
            SELECT NULL, {SelectList} FROM orders o {LatestPayment}
            WHERE o.merchant_id = $1 AND o.order_id = $2 AND NOT EXISTS (SELECT FROM written)
            """);
        BatchSql.Bind(open, request.MerchantId, request.OrderId, request.Protocol, request.AmountMinor, request.Currency, request.TransDate, request.TransType,
            request.NetPayVersion, request.BgRetUrl, request.PageRetUrl, request.GateId, request.Priv1, now, request.NotificationMode,
            OrderLifetime.PayBy(request.PayBy, now, options.Value), request.CaptureMode);
        bool? fresh = null;
        Order? written = null;
        await using (var row = await open.ExecuteReaderAsync(ct))
        {
            if (await row.ReadAsync(ct))
            {
                fresh = row.IsDBNull(0) ? null : row.GetBoolean(0);
                written = Read(row, 1);
            }
        }
        // No row: the order was created by a transaction that committed after this statement's snapshot; read it now.
        var order = written ?? (await FindAsync(request.MerchantId, request.OrderId, ct))!;
        if (fresh is { } inserted)
        {
            metrics.OrderCreated(request.Protocol);
            return (inserted ? Opening.Opened : Opening.Reopened, order);
        }
        return (order.Status == OrderStatus.Created && order.SameAs(request) ? Opening.AlreadyOpen : Opening.Duplicate, order);
    }

    /// <summary>An order with its merchant's name, as a payment page shows them, in one read: null when there is no such order.</summary>
    public async Task<(Order Order, string MerchantName)?> FindForPageAsync(string merchantId, string orderId, CancellationToken ct)
    {
        await using var find = db.CreateCommand(
            $"SELECT {SelectList}, m.name FROM orders o JOIN merchants m ON m.merchant_id = o.merchant_id {LatestPayment} WHERE o.merchant_id = $1 AND o.order_id = $2");
        BatchSql.Bind(find, merchantId, orderId);
        await using var row = await find.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct) ? (Read(row), row.GetString(SelectListColumns)) : null;
    }

    /// <summary>How many columns <see cref="SelectList"/> has.</summary>
    public const int SelectListColumns = 29;

    public async Task<Order?> FindAsync(string merchantId, string orderId, CancellationToken ct)
    {
        await using var find = db.CreateCommand($"SELECT {Columns} WHERE o.merchant_id = $1 AND o.order_id = $2");
        BatchSql.Bind(find, merchantId, orderId);
        await using var row = await find.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct) ? Read(row) : null;
    }

    /// <summary>
    /// A merchant's orders created in [<paramref name="from"/>, <paramref name="to"/>), oldest first,
    /// at most <paramref name="limit"/>, after the cursor (the last order of the previous page).
    /// </summary>
    public async Task<List<Order>> ListAsync(string merchantId, DateTimeOffset from, DateTimeOffset to, (DateTimeOffset CreatedAt, string OrderId)? after,
        int limit, CancellationToken ct)
    {
        await using var list = db.CreateCommand(
            $"""
            SELECT {Columns}
            WHERE o.merchant_id = $1 AND o.created_at >= $2 AND o.created_at < $3 AND (o.created_at, o.order_id) > ($4, $5)
            ORDER BY o.created_at, o.order_id LIMIT $6
            """);
        BatchSql.Bind(list, merchantId, from, to, after?.CreatedAt ?? DateTimeOffset.MinValue.ToUniversalTime(), after?.OrderId ?? "", Math.Clamp(limit, 1, ListLimitMax));
        await using var row = await list.ExecuteReaderAsync(ct);
        var orders = new List<Order>();
        while (await row.ReadAsync(ct))
        {
            orders.Add(Read(row));
        }
        return orders;
    }

    /// <summary>
    /// A merchant's orders for its console, newest first: created in [from, to), optionally of one
    /// status, an order number starting with <paramref name="orderIdPrefix"/>, an amount within
    /// [min, max]; a page of at most <paramref name="limit"/> after skipping <paramref name="offset"/>.
    /// </summary>
    public async Task<List<Order>> SearchAsync(string merchantId, DateTimeOffset from, DateTimeOffset to, string? status, string? orderIdPrefix,
        long? amountMinMinor, long? amountMaxMinor, int limit, int offset, CancellationToken ct)
    {
        await using var search = db.CreateCommand(
            $"""
            SELECT {Columns}
            WHERE o.merchant_id = $1 AND o.created_at >= $2 AND o.created_at < $3 AND ($4::text IS NULL OR o.status = $4)
              AND ($5::text IS NULL OR o.order_id LIKE $5 || '%') AND ($6::bigint IS NULL OR o.amount_minor >= $6) AND ($7::bigint IS NULL OR o.amount_minor <= $7)
            ORDER BY o.created_at DESC, o.order_id DESC LIMIT $8 OFFSET $9
            """);
        BatchSql.Bind(search, merchantId, from, to, Typed(status, NpgsqlTypes.NpgsqlDbType.Text),
            Typed(orderIdPrefix?.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_"), NpgsqlTypes.NpgsqlDbType.Text),
            Typed(amountMinMinor, NpgsqlTypes.NpgsqlDbType.Bigint), Typed(amountMaxMinor, NpgsqlTypes.NpgsqlDbType.Bigint), limit, offset);
        await using var row = await search.ExecuteReaderAsync(ct);
        var orders = new List<Order>();
        while (await row.ReadAsync(ct))
        {
            orders.Add(Read(row));
        }
        return orders;
    }

    private static NpgsqlParameter Typed(object? value, NpgsqlTypes.NpgsqlDbType type) => new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };

    /// <summary>The order in a row that holds <see cref="SelectList"/> from column <paramref name="first"/> on.</summary>
    public static Order Read(DbDataReader row, int first = 0)
    {
        string? Text(int i) => row.IsDBNull(first + i) ? null : row.GetString(first + i);
        string Required(int i) => row.GetString(first + i);
        DateTimeOffset At(int i) => row.GetFieldValue<DateTimeOffset>(first + i);
        return new Order(Required(0), Required(1), Required(2), row.GetInt64(first + 3), Required(4), Required(5), Required(6),
            Text(7), Text(8), Text(9), Text(10), Text(11), Required(12), row.GetInt32(first + 13), row.GetInt32(first + 14), Text(15), Text(16),
            row.GetInt64(first + 17), row.GetInt64(first + 18), At(19), At(20), row.IsDBNull(first + 21) ? null : At(21), Text(22), Text(23), Text(24),
            At(25), row.GetInt32(first + 26), Required(27), row.IsDBNull(first + 28) ? null : At(28));
    }
}
