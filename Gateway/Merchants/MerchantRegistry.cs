using System.Collections.Concurrent;
using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Gateway.Merchants;

/// <summary>
/// A merchant as onboarded; <paramref name="ReturnUrlPrefixes"/> are where its NetPay orders' BgRetUrl and PageRetUrl may point.
/// <paramref name="Status"/> is <see cref="MerchantLifecycle.Text"/> of its <see cref="State"/>, why and since when; a closed merchant's
/// rows are kept until <paramref name="RetainUntil"/>. During a key rotation's overlap the key it replaced verifies until
/// <paramref name="PreviousKeyExpiresAt"/>. <paramref name="SettlementBank"/> is the BIC of the bank that holds its settlement account
/// (empty: the platform's own settlement bank); each bank gets its own payment file.
/// </summary>
public sealed record Merchant(string MerchantId, string Name, string Status, string KeyAlgorithm, int KeyBits, string KeyFingerprint,
    bool HasCertificate, string NotificationMode, string NotificationProtocol, int FeeRatePpm, long FeeMinimumMinor, string SettlementAccount,
    DateTimeOffset CreatedAt, string[] ReturnUrlPrefixes, string? StatusReason = null, DateTimeOffset? StatusChangedAt = null, DateTimeOffset? RetainUntil = null,
    string? PreviousKeyFingerprint = null, DateTimeOffset? PreviousKeyExpiresAt = null, string SettlementBank = "")
{
    [System.Text.Json.Serialization.JsonIgnore]
    public MerchantStatus State => MerchantLifecycle.Parse(Status);
}

/// <summary>Merchants in gatewaydb. Onboarding is idempotent on the merchant id: the same details again change nothing.</summary>
public sealed class MerchantRegistry(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>
    /// How long a merchant and its key are kept in memory after a read. Every signed request needs
    /// them, so the read was one round trip per request. A change made through this replica is seen
    /// at once; one made through another replica is seen within this time.
    /// </summary>
    public static readonly TimeSpan CachedFor = TimeSpan.FromSeconds(5);

    /// <summary>Most merchants kept; past it the cache starts again empty.</summary>
    public const int CachedMax = 10_000;

    private readonly ConcurrentDictionary<string, ((Merchant Merchant, MerchantKeys Keys) Found, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    public enum Outcome
    {
        Created,
        AlreadyTheSame,
        Conflict,
    }

    public async Task<(Outcome Outcome, Merchant Merchant)> OnboardAsync(MerchantApplication application, MerchantKey key, CancellationToken ct)
    {
        await using var insert = db.CreateCommand(
            """
            INSERT INTO merchants (merchant_id, name, public_key_spki, key_algorithm, key_bits, certificate_pem, notification_mode, notification_protocol,
                                   fee_rate_ppm, fee_minimum_minor, settlement_account, created_at, notify_allow_list, tls_pinned_sha256,
                                   return_url_prefixes, settlement_bank)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (merchant_id) DO NOTHING
            """);
        BatchSql.Bind(insert, application.MerchantId, application.Name, key.SubjectPublicKeyInfo, key.Algorithm, key.Bits, key.CertificatePem,
            application.NotificationMode, application.NotificationProtocol, application.FeeRatePpm, application.FeeMinimumMinor,
            application.SettlementAccount, time.GetUtcNow(), application.NotifyAllowList ?? [], application.TlsPinnedSha256,
            application.ReturnUrlPrefixes ?? [], application.SettlementBank);
        var created = await insert.ExecuteNonQueryAsync(ct) == 1;
        var stored = (await FindAsync(application.MerchantId!, ct))!;
        if (created)
        {
            return (Outcome.Created, stored);
        }
        var same = stored.Name == application.Name && stored.KeyFingerprint == key.Fingerprint && stored.NotificationMode == application.NotificationMode
            && stored.NotificationProtocol == application.NotificationProtocol && stored.FeeRatePpm == application.FeeRatePpm
            && stored.FeeMinimumMinor == application.FeeMinimumMinor && stored.SettlementAccount == application.SettlementAccount
            && stored.SettlementBank == (application.SettlementBank ?? "")
            && stored.ReturnUrlPrefixes.Order(StringComparer.Ordinal).SequenceEqual((application.ReturnUrlPrefixes ?? []).Order(StringComparer.Ordinal));
        return (same ? Outcome.AlreadyTheSame : Outcome.Conflict, stored);
    }

    /// <summary>A merchant's own choice of how it is told (its console's settings).</summary>
    public async Task UpdateNotificationsAsync(string merchantId, string mode, string protocol, CancellationToken ct)
    {
        await using var update = db.CreateCommand("UPDATE merchants SET notification_mode = $2, notification_protocol = $3 WHERE merchant_id = $1");
        BatchSql.Bind(update, merchantId, mode, protocol);
        await update.ExecuteNonQueryAsync(ct);
        _cache.TryRemove(merchantId, out _);
    }

    /// <summary>The addresses a merchant's NetPay BgRetUrl and PageRetUrl may lie under, as it now registers them (its console's settings).</summary>
    public async Task UpdateReturnUrlPrefixesAsync(string merchantId, string[] prefixes, CancellationToken ct)
    {
        await using var update = db.CreateCommand("UPDATE merchants SET return_url_prefixes = $2 WHERE merchant_id = $1");
        BatchSql.Bind(update, merchantId, prefixes);
        await update.ExecuteNonQueryAsync(ct);
        _cache.TryRemove(merchantId, out _);
    }

    /// <summary>
    /// A merchant's new key or certificate: its signatures are checked with it from the next request on, and with the key it
    /// replaces until <paramref name="previousExpiresAt"/> (none: the old key stops at once). A key still in an earlier
    /// rotation's overlap is dropped: two keys verify at most.
    /// </summary>
    public async Task RotateKeyAsync(string merchantId, MerchantKey key, DateTimeOffset? previousExpiresAt, CancellationToken ct)
    {
        await using var update = db.CreateCommand(
            """
            UPDATE merchants SET
                previous_key_spki = CASE WHEN $6::timestamptz IS NULL THEN NULL ELSE public_key_spki END,
                previous_key_algorithm = CASE WHEN $6::timestamptz IS NULL THEN NULL ELSE key_algorithm END,
                previous_key_bits = CASE WHEN $6::timestamptz IS NULL THEN NULL ELSE key_bits END,
                previous_key_expires_at = $6::timestamptz,
                public_key_spki = $2, key_algorithm = $3, key_bits = $4, certificate_pem = $5
            WHERE merchant_id = $1
            """);
        BatchSql.Bind(update, merchantId, key.SubjectPublicKeyInfo, key.Algorithm, key.Bits, key.CertificatePem, previousExpiresAt);
        await update.ExecuteNonQueryAsync(ct);
        _cache.TryRemove(merchantId, out _);
    }

    /// <summary>
    /// Moves a merchant from <paramref name="from"/> to <paramref name="to"/> (a legal move of <see cref="MerchantLifecycle"/>) at
    /// <paramref name="at"/>, with why; a closed merchant's data is kept until <paramref name="retainUntil"/>. False when it was no
    /// longer in <paramref name="from"/> (another operator moved it first).
    /// </summary>
    public async Task<bool> MoveAsync(string merchantId, MerchantStatus from, MerchantStatus to, string reason, DateTimeOffset at, DateTimeOffset? retainUntil,
        CancellationToken ct)
    {
        await using var update = db.CreateCommand(
            "UPDATE merchants SET status = $3, status_reason = $4, status_changed_at = $5, retain_until = $6::timestamptz WHERE merchant_id = $1 AND status = $2");
        BatchSql.Bind(update, merchantId, MerchantLifecycle.Text(from), MerchantLifecycle.Text(to), reason, at, retainUntil);
        var moved = await update.ExecuteNonQueryAsync(ct) == 1;
        _cache.TryRemove(merchantId, out _);
        return moved;
    }

    /// <summary>The merchants being offboarded, at most <paramref name="limit"/>: each closes once its last settlement batch is paid.</summary>
    public async Task<List<string>> OffboardingAsync(int limit, CancellationToken ct)
    {
        await using var list = db.CreateCommand("SELECT merchant_id FROM merchants WHERE status = 'offboarding' ORDER BY merchant_id LIMIT $1");
        BatchSql.Bind(list, limit);
        await using var row = await list.ExecuteReaderAsync(ct);
        var found = new List<string>();
        while (await row.ReadAsync(ct))
        {
            found.Add(row.GetString(0));
        }
        return found;
    }

    public async Task<Merchant?> FindAsync(string merchantId, CancellationToken ct) => (await FindWithKeyAsync(merchantId, ct))?.Merchant;

    private const string Columns =
        """
        merchant_id, name, status, coalesce(key_algorithm, ''), coalesce(key_bits, 0), public_key_spki, certificate_pem IS NOT NULL,
        notification_mode, notification_protocol, fee_rate_ppm, fee_minimum_minor, coalesce(settlement_account, ''), created_at,
        return_url_prefixes, status_reason, status_changed_at, retain_until, previous_key_spki, previous_key_algorithm, previous_key_bits,
        previous_key_expires_at, coalesce(settlement_bank, '')
        FROM merchants
        """;

    /// <summary>The merchant and the public keys (SubjectPublicKeyInfo) its requests are checked with, in one read.</summary>
    public async Task<(Merchant Merchant, MerchantKeys Keys)?> FindWithKeyAsync(string merchantId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(merchantId, out var cached) && cached.Until > now)
        {
            return cached.Found;
        }
        (Merchant, MerchantKeys)? found;
        await using (var find = db.CreateCommand($"SELECT {Columns} WHERE merchant_id = $1"))
        {
            BatchSql.Bind(find, merchantId);
            await using var row = await find.ExecuteReaderAsync(ct);
            found = await row.ReadAsync(ct) ? Read(row) : null;
        }
        if (found is { } known)
        {
            if (_cache.Count >= CachedMax)
            {
                _cache.Clear();
            }
            _cache[merchantId] = (known, now + CachedFor);
        }
        return found;
    }

    /// <summary>The latest onboarded merchants, at most <paramref name="limit"/>, for the operator console.</summary>
    public async Task<List<Merchant>> LatestAsync(int limit, CancellationToken ct)
    {
        await using var list = db.CreateCommand($"SELECT {Columns} ORDER BY created_at DESC, merchant_id LIMIT $1");
        BatchSql.Bind(list, limit);
        await using var row = await list.ExecuteReaderAsync(ct);
        var merchants = new List<Merchant>();
        while (await row.ReadAsync(ct))
        {
            merchants.Add(Read(row).Merchant);
        }
        return merchants;
    }

    private static (Merchant Merchant, MerchantKeys Keys) Read(NpgsqlDataReader row)
    {
        var spki = row.IsDBNull(5) ? [] : row.GetFieldValue<byte[]>(5);
        var previous = row.IsDBNull(17) ? null : row.GetFieldValue<byte[]>(17);
        var previousAlgorithm = row.IsDBNull(18) ? null : row.GetString(18);
        var previousExpiresAt = row.IsDBNull(20) ? (DateTimeOffset?)null : row.GetFieldValue<DateTimeOffset>(20);
        var merchant = new Merchant(row.GetString(0), row.GetString(1), row.GetString(2), row.GetString(3), row.GetInt32(4),
            new MerchantKey(spki, row.GetString(3), row.GetInt32(4), null).Fingerprint, row.GetBoolean(6), row.GetString(7), row.GetString(8),
            row.GetInt32(9), row.GetInt64(10), row.GetString(11), row.GetFieldValue<DateTimeOffset>(12), row.GetFieldValue<string[]>(13),
            row.IsDBNull(14) ? null : row.GetString(14), row.IsDBNull(15) ? null : row.GetFieldValue<DateTimeOffset>(15),
            row.IsDBNull(16) ? null : row.GetFieldValue<DateTimeOffset>(16),
            previous is null ? null : new MerchantKey(previous, previousAlgorithm!, row.IsDBNull(19) ? 0 : row.GetInt32(19), null).Fingerprint, previousExpiresAt,
            row.GetString(21));
        return (merchant, new MerchantKeys(spki, row.GetString(3), previous, previousAlgorithm, previousExpiresAt));
    }
}
