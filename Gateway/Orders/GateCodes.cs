using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Gateway.Orders;

/// <summary>A bank a consumer may choose: NetPay's GateId (4 digits), the bank's name, and whether orders may name it now.</summary>
public sealed record GateCode(string GateId, string BankName, bool Enabled, DateTimeOffset UpdatedAt);

/// <summary>
/// The gate codes (NetPay's GateId) operators manage in the operator console: an order may name an
/// enabled one, and the payment page lists the enabled ones for a consumer to choose. Codes are
/// never deleted, only disabled. The enabled list is read through a cache of <see cref="CacheFor"/>,
/// so a change reaches every replica within it; the replica that made it drops its copy at once.
/// The switch routes by card number whatever is chosen.
/// </summary>
public sealed class GateCodes(NpgsqlDataSource db, TimeProvider time)
{
    public const int BankNameCharsMax = 100;
    public const int CodesMax = 500;
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private sealed record Cached(IReadOnlyList<GateCode> Enabled, DateTimeOffset Until);

    private volatile Cached? _cached;

    public static bool IsGateId(string? text) => text is { Length: 4 } && text.All(char.IsAsciiDigit);

    public static bool IsBankName(string? text) => text is { Length: > 0 and <= BankNameCharsMax } && !text.Any(char.IsControl) && text.Trim() == text;

    /// <summary>The enabled codes, by GateId, at most <see cref="CacheFor"/> old.</summary>
    public async Task<IReadOnlyList<GateCode>> EnabledAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_cached is { } cached && cached.Until > now)
        {
            return cached.Enabled;
        }
        var enabled = (await ListAsync(ct)).Where(g => g.Enabled).ToList();
        _cached = new Cached(enabled, now + CacheFor);
        return enabled;
    }

    /// <summary>Whether <paramref name="gateId"/> is an enabled code.</summary>
    public async Task<bool> IsEnabledAsync(string? gateId, CancellationToken ct) =>
        IsGateId(gateId) && (await EnabledAsync(ct)).Any(g => g.GateId == gateId);

    /// <summary>Every code, enabled or not, by GateId.</summary>
    public async Task<IReadOnlyList<GateCode>> ListAsync(CancellationToken ct)
    {
        await using var list = db.CreateCommand("SELECT gate_id, bank_name, enabled, updated_at FROM gate_codes ORDER BY gate_id LIMIT $1");
        BatchSql.Bind(list, CodesMax);
        var codes = new List<GateCode>();
        await using var row = await list.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            codes.Add(Read(row));
        }
        return codes;
    }

    /// <summary>Adds a code, or enables and renames one that is there; the code as it now is.</summary>
    public async Task<GateCode> AddAsync(string gateId, string bankName, CancellationToken ct)
    {
        await using var add = db.CreateCommand(
            """
            INSERT INTO gate_codes (gate_id, bank_name, enabled, updated_at) VALUES ($1, $2, true, $3)
            ON CONFLICT (gate_id) DO UPDATE SET bank_name = EXCLUDED.bank_name, enabled = true, updated_at = EXCLUDED.updated_at
            RETURNING gate_id, bank_name, enabled, updated_at
            """);
        BatchSql.Bind(add, gateId, bankName, time.GetUtcNow());
        return await WriteAsync(add, ct) ?? throw new InvalidOperationException("an upsert returns its row");
    }

    public enum Disabling
    {
        Disabled,
        NoSuchCode,

        /// <summary>The last enabled code stays: a consumer whose order names no bank must have one to choose.</summary>
        LastEnabled,
    }

    /// <summary>Disables a code (orders that named it keep it), unless it is the last enabled one; the code as it now is.</summary>
    public async Task<(Disabling Outcome, GateCode? Code)> DisableAsync(string gateId, CancellationToken ct)
    {
        await using var disable = db.CreateCommand(
            """
            UPDATE gate_codes SET enabled = false, updated_at = $2
            WHERE gate_id = $1 AND (NOT enabled OR EXISTS (SELECT 1 FROM gate_codes g WHERE g.enabled AND g.gate_id <> $1))
            RETURNING gate_id, bank_name, enabled, updated_at
            """);
        BatchSql.Bind(disable, gateId, time.GetUtcNow());
        if (await WriteAsync(disable, ct) is { } code)
        {
            return (Disabling.Disabled, code);
        }
        return (await ListAsync(ct)).FirstOrDefault(g => g.GateId == gateId) is { } kept ? (Disabling.LastEnabled, kept) : (Disabling.NoSuchCode, null);
    }

    private async Task<GateCode?> WriteAsync(NpgsqlCommand write, CancellationToken ct)
    {
        GateCode? code;
        await using (var row = await write.ExecuteReaderAsync(ct))
        {
            code = await row.ReadAsync(ct) ? Read(row) : null;
        }
        _cached = null;
        return code;
    }

    private static GateCode Read(NpgsqlDataReader row) => new(row.GetString(0), row.GetString(1), row.GetBoolean(2), row.GetFieldValue<DateTimeOffset>(3));
}
