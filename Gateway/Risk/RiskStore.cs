using System.Net;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Risk;

/// <summary>A blocked card (its masked number; the lookup hash stays in the database) or network.</summary>
public sealed record RiskBlock(long BlockId, string Kind, string What, string Reason, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>One refusal: which merchant's order, which rule, the masked card and the consumer's address when there was a payment.</summary>
public sealed record RefusedAttempt(long RefusalId, string MerchantId, string OrderId, string Rule, long AmountMinor, string Currency, string? PanMasked,
    string? Network, string Detail, DateTimeOffset RefusedAt);

/// <summary>The counters a payment is about to take: its merchant's business day and its card's window.</summary>
public sealed record RiskHold(string MerchantId, string Currency, DateOnly BusinessDay, byte[] PanHash, DateTimeOffset WindowStart, long AmountMinor);

/// <summary>
/// The risk controls' SQL: limits, velocity settings, block lists, the counters and the refusals. The counters are
/// taken with one conditional upsert each (<see cref="HoldAsync"/>), inside the payment's claim transaction: the row
/// lock makes a second racing payment wait and then see the first one's amount, so two cannot both pass a limit
/// they exceed together.
/// </summary>
public sealed class RiskStore(NpgsqlDataSource db, IOptions<RiskOptions> options, TimeProvider time)
{
    public const int BlocksListed = 500;

    public async Task<MerchantLimits> LimitsAsync(string merchantId, string currency, CancellationToken ct)
    {
        await using var read = db.CreateCommand($"SELECT {LimitColumns} FROM risk_merchant_limits WHERE merchant_id = $1 AND currency = $2");
        BatchSql.Bind(read, merchantId, currency);
        await using var row = await read.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct) ? ReadLimits(row) : MerchantLimits.None(merchantId, currency);
    }

    public async Task<IReadOnlyList<MerchantLimits>> AllLimitsAsync(CancellationToken ct)
    {
        await using var read = db.CreateCommand($"SELECT {LimitColumns} FROM risk_merchant_limits ORDER BY merchant_id, currency LIMIT 1000");
        var limits = new List<MerchantLimits>();
        await using var row = await read.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            limits.Add(ReadLimits(row));
        }
        return limits;
    }

    /// <summary>Sets the operator's caps of a merchant (null: none); null when there is no such merchant.</summary>
    public async Task<MerchantLimits?> SetCapsAsync(string merchantId, string currency, long? perPaymentMinor, long? perDayMinor, CancellationToken ct)
    {
        await using var set = db.CreateCommand(
            $"""
            INSERT INTO risk_merchant_limits (merchant_id, currency, cap_per_payment_minor, cap_per_day_minor, updated_at)
            SELECT merchant_id, $2, $3::bigint, $4::bigint, $5 FROM merchants WHERE merchant_id = $1
            ON CONFLICT (merchant_id, currency) DO UPDATE SET cap_per_payment_minor = EXCLUDED.cap_per_payment_minor,
                cap_per_day_minor = EXCLUDED.cap_per_day_minor, updated_at = EXCLUDED.updated_at
            RETURNING {LimitColumns}
            """);
        BatchSql.Bind(set, merchantId, currency, perPaymentMinor, perDayMinor, time.GetUtcNow());
        await using var row = await set.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct) ? ReadLimits(row) : null;
    }

    /// <summary>
    /// The merchant's own limits, written only while they are no looser than the operator's caps (checked again here,
    /// against a cap changed meanwhile); null when they are.
    /// </summary>
    public async Task<MerchantLimits?> SetMerchantLimitsAsync(string merchantId, string currency, long? perPaymentMinor, long? perDayMinor, CancellationToken ct)
    {
        await using var set = db.CreateCommand(
            $"""
            INSERT INTO risk_merchant_limits AS l (merchant_id, currency, merchant_per_payment_minor, merchant_per_day_minor, updated_at)
            VALUES ($1, $2, $3::bigint, $4::bigint, $5)
            ON CONFLICT (merchant_id, currency) DO UPDATE SET merchant_per_payment_minor = EXCLUDED.merchant_per_payment_minor,
                merchant_per_day_minor = EXCLUDED.merchant_per_day_minor, updated_at = EXCLUDED.updated_at
            WHERE (l.cap_per_payment_minor IS NULL OR EXCLUDED.merchant_per_payment_minor IS NULL
                   OR EXCLUDED.merchant_per_payment_minor <= l.cap_per_payment_minor)
              AND (l.cap_per_day_minor IS NULL OR EXCLUDED.merchant_per_day_minor IS NULL OR EXCLUDED.merchant_per_day_minor <= l.cap_per_day_minor)
            RETURNING {LimitColumns}
            """);
        BatchSql.Bind(set, merchantId, currency, perPaymentMinor, perDayMinor, time.GetUtcNow());
        await using var row = await set.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct) ? ReadLimits(row) : null;
    }

    private const string LimitColumns =
        "merchant_id, currency, cap_per_payment_minor, cap_per_day_minor, merchant_per_payment_minor, merchant_per_day_minor, updated_at";

    private static MerchantLimits ReadLimits(NpgsqlDataReader row) => new(row.GetString(0), row.GetString(1), Long(row, 2), Long(row, 3), Long(row, 4),
        Long(row, 5), row.GetFieldValue<DateTimeOffset>(6));

    private static long? Long(NpgsqlDataReader row, int column) => row.IsDBNull(column) ? null : row.GetInt64(column);

    /// <summary>The velocity settings: the operator's, else the options' defaults.</summary>
    public async Task<VelocitySettings> VelocityAsync(CancellationToken ct)
    {
        await using var read = db.CreateCommand("SELECT attempts_max, amount_minor_max, window_minutes, updated_at FROM risk_velocity");
        await using var row = await read.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct)
            ? new VelocitySettings(row.GetInt32(0), row.GetInt64(1), row.GetInt32(2), row.GetFieldValue<DateTimeOffset>(3))
            : options.Value.Defaults;
    }

    public async Task SetVelocityAsync(VelocitySettings settings, CancellationToken ct)
    {
        await using var set = db.CreateCommand(
            """
            INSERT INTO risk_velocity (attempts_max, amount_minor_max, window_minutes, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (singleton) DO UPDATE SET attempts_max = EXCLUDED.attempts_max, amount_minor_max = EXCLUDED.amount_minor_max,
                window_minutes = EXCLUDED.window_minutes, updated_at = EXCLUDED.updated_at
            """);
        BatchSql.Bind(set, settings.AttemptsMax, settings.AmountMinorMax, settings.WindowMinutes, time.GetUtcNow());
        await set.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The block that matches the card or the consumer's network, as its refusal code; null when none does.</summary>
    public async Task<string?> BlockedAsync(byte[] panHash, IPAddress? network, CancellationToken ct)
    {
        await using var find = db.CreateCommand(
            """
            SELECT kind FROM risk_blocks
            WHERE (kind = 'card' AND pan_hash = $1) OR (kind = 'network' AND $2::inet IS NOT NULL AND network >>= $2::inet)
            ORDER BY kind LIMIT 1
            """);
        BatchSql.Bind(find, panHash, network);
        return await find.ExecuteScalarAsync(ct) switch
        {
            "card" => RiskCodes.BlockedCard,
            "network" => RiskCodes.BlockedNetwork,
            _ => null,
        };
    }

    public async Task<IReadOnlyList<RiskBlock>> BlocksAsync(CancellationToken ct)
    {
        await using var list = db.CreateCommand(
            """
            SELECT block_id, kind, coalesce(pan_masked, host(network) || '/' || masklen(network)), reason, created_by, created_at
            FROM risk_blocks ORDER BY block_id DESC LIMIT $1
            """);
        BatchSql.Bind(list, BlocksListed);
        var blocks = new List<RiskBlock>();
        await using var row = await list.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            blocks.Add(new RiskBlock(row.GetInt64(0), row.GetString(1), row.GetString(2), row.GetString(3), row.GetString(4),
                row.GetFieldValue<DateTimeOffset>(5)));
        }
        return blocks;
    }

    /// <summary>Blocks a card by its lookup hash; false when it was blocked already.</summary>
    public async Task<bool> BlockCardAsync(byte[] panHash, string panMasked, string reason, string by, CancellationToken ct)
    {
        await using var add = db.CreateCommand(
            """
            INSERT INTO risk_blocks (kind, pan_hash, pan_masked, reason, created_by, created_at) VALUES ('card', $1, $2, $3, $4, $5)
            ON CONFLICT (pan_hash) WHERE kind = 'card' DO NOTHING
            """);
        BatchSql.Bind(add, panHash, panMasked, reason, by, time.GetUtcNow());
        return await add.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>Blocks a network (canonical CIDR text); false when it was blocked already.</summary>
    public async Task<bool> BlockNetworkAsync(string network, string reason, string by, CancellationToken ct)
    {
        await using var add = db.CreateCommand(
            """
            INSERT INTO risk_blocks (kind, network, reason, created_by, created_at) VALUES ('network', $1::cidr, $2, $3, $4)
            ON CONFLICT (network) WHERE kind = 'network' DO NOTHING
            """);
        BatchSql.Bind(add, network, reason, by, time.GetUtcNow());
        return await add.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>Lifts a block; the block as it was, or null when there is no such block.</summary>
    public async Task<RiskBlock?> UnblockAsync(long blockId, CancellationToken ct)
    {
        await using var remove = db.CreateCommand(
            """
            DELETE FROM risk_blocks WHERE block_id = $1
            RETURNING block_id, kind, coalesce(pan_masked, host(network) || '/' || masklen(network)), reason, created_by, created_at
            """);
        BatchSql.Bind(remove, blockId);
        await using var row = await remove.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct)
            ? new RiskBlock(row.GetInt64(0), row.GetString(1), row.GetString(2), row.GetString(3), row.GetString(4), row.GetFieldValue<DateTimeOffset>(5))
            : null;
    }

    /// <summary>
    /// Takes <paramref name="hold"/>'s amount on its merchant's business day (within <paramref name="perDayMinor"/>) and one
    /// attempt and its amount on its card's window (within <paramref name="velocity"/>), in the caller's transaction;
    /// the refusal's code when a limit would be passed (the caller rolls back), else null.
    /// </summary>
    public static async Task<string?> HoldAsync(RiskHold hold, long? perDayMinor, VelocitySettings velocity, NpgsqlConnection connection,
        NpgsqlTransaction tx, CancellationToken ct)
    {
        if (perDayMinor is { } dayMax && hold.AmountMinor > dayMax)
        {
            return RiskCodes.LimitPerDay;
        }
        await using var day = new NpgsqlCommand(
            """
            INSERT INTO risk_merchant_days AS d (merchant_id, currency, business_day, used_minor) VALUES ($1, $2, $3, $4)
            ON CONFLICT (merchant_id, currency, business_day) DO UPDATE SET used_minor = d.used_minor + EXCLUDED.used_minor
            WHERE $5::bigint IS NULL OR d.used_minor + EXCLUDED.used_minor <= $5::bigint
            RETURNING used_minor
            """, connection, tx);
        BatchSql.Bind(day, hold.MerchantId, hold.Currency, hold.BusinessDay, hold.AmountMinor, perDayMinor);
        if (await day.ExecuteScalarAsync(ct) is null)
        {
            return RiskCodes.LimitPerDay;
        }
        if (velocity.AmountMinorMax > 0 && hold.AmountMinor > velocity.AmountMinorMax)
        {
            return RiskCodes.Velocity;
        }
        await using var card = new NpgsqlCommand(
            """
            INSERT INTO risk_card_windows AS w (pan_hash, window_start, attempts, amount_minor) VALUES ($1, $2, 1, $3)
            ON CONFLICT (pan_hash, window_start) DO UPDATE SET attempts = w.attempts + 1, amount_minor = w.amount_minor + EXCLUDED.amount_minor
            WHERE ($4 = 0 OR w.attempts + 1 <= $4) AND ($5 = 0 OR w.amount_minor + EXCLUDED.amount_minor <= $5)
            RETURNING attempts
            """, connection, tx);
        BatchSql.Bind(card, hold.PanHash, hold.WindowStart, hold.AmountMinor, velocity.AttemptsMax, velocity.AmountMinorMax);
        return await card.ExecuteScalarAsync(ct) is null ? RiskCodes.Velocity : null;
    }

    /// <summary>Records what <paramref name="paymentId"/> holds, in the transaction that took it.</summary>
    public static async Task RecordHoldAsync(long paymentId, RiskHold hold, NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var record = new NpgsqlCommand(
            """
            INSERT INTO risk_holds (payment_id, merchant_id, currency, business_day, pan_hash, window_start, amount_minor)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, connection, tx);
        BatchSql.Bind(record, paymentId, hold.MerchantId, hold.Currency, hold.BusinessDay, hold.PanHash, hold.WindowStart, hold.AmountMinor);
        await record.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Gives back what a declined or reversed payment held of the two amounts (its attempt stays counted), once: a
    /// second call, or one for an approved payment's hold already given back, changes nothing.
    /// </summary>
    public async Task ReleaseAsync(long paymentId, CancellationToken ct)
    {
        await using var release = db.CreateCommand(
            """
            WITH h AS (UPDATE risk_holds SET released_at = $2 WHERE payment_id = $1 AND released_at IS NULL RETURNING *),
            d AS (UPDATE risk_merchant_days m SET used_minor = greatest(m.used_minor - h.amount_minor, 0) FROM h
                  WHERE m.merchant_id = h.merchant_id AND m.currency = h.currency AND m.business_day = h.business_day),
            c AS (UPDATE risk_card_windows w SET amount_minor = greatest(w.amount_minor - h.amount_minor, 0) FROM h
                  WHERE w.pan_hash = h.pan_hash AND w.window_start = h.window_start)
            SELECT count(*) FROM h
            """);
        BatchSql.Bind(release, paymentId, time.GetUtcNow());
        await release.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Records a refusal at order creation (no card, no order kept).</summary>
    public async Task RefusedAsync(string merchantId, string orderId, string rule, long amountMinor, string currency, string detail, CancellationToken ct)
    {
        await using var record = db.CreateCommand(
            """
            INSERT INTO risk_refusals (merchant_id, order_id, rule, amount_minor, currency, detail, refused_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
            """);
        BatchSql.Bind(record, merchantId, orderId, rule, amountMinor, currency, detail, time.GetUtcNow());
        await record.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The latest refusals, newest first, of one merchant and one rule when given.</summary>
    public async Task<IReadOnlyList<RefusedAttempt>> RefusalsAsync(string? merchantId, string? rule, int limit, CancellationToken ct)
    {
        await using var list = db.CreateCommand(
            """
            SELECT refusal_id, merchant_id, order_id, rule, amount_minor, currency, pan_masked, host(network), detail, refused_at FROM risk_refusals
            WHERE ($1::text IS NULL OR merchant_id = $1) AND ($2::text IS NULL OR rule = $2)
            ORDER BY refused_at DESC, refusal_id DESC LIMIT $3
            """);
        BatchSql.Bind(list, merchantId, rule, Math.Clamp(limit, 1, RiskRules.RefusalsListed));
        var refusals = new List<RefusedAttempt>();
        await using var row = await list.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            refusals.Add(new RefusedAttempt(row.GetInt64(0), row.GetString(1), row.GetString(2), row.GetString(3), row.GetInt64(4), row.GetString(5),
                row.IsDBNull(6) ? null : row.GetString(6), row.IsDBNull(7) ? null : row.GetString(7), row.GetString(8),
                row.GetFieldValue<DateTimeOffset>(9)));
        }
        return refusals;
    }
}
