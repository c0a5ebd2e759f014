using Mesh.Hsm.Access;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Options;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Hsm.Ceremonies;

/// <summary>A key ceremony under way: what key it forms and how many custodians' components it needs.</summary>
public sealed record Ceremony(string KeyId, string KeyType, string Algorithm, string Policy, int ComponentsRequired);

/// <summary>A custodian's component, sealed under the LMK (never in clear at rest).</summary>
public sealed record SealedComponent(string Custodian, byte[] Block, string LmkCheckValue);

/// <summary>
/// A submission taken: the ceremony as stored, every component it holds (this one included), when
/// it expires, and how many components of an expired ceremony for the same key id were erased first.
/// </summary>
public sealed record CeremonySubmission(Ceremony Stored, IReadOnlyList<SealedComponent> Components, DateTimeOffset ExpiresAt, int ExpiredComponentsErased);

/// <summary>A ceremony whose rows were deleted, and whether its key was already held (formed before a stop).</summary>
public sealed record ErasedCeremony(string KeyId, bool KeyHeld, int Components);

/// <summary>
/// Ceremonies in hsmdb. A submission runs in one transaction with the ceremony's row locked, so two
/// custodians submitting at once are counted one after the other. A ceremony ends formed, aborted
/// or expired (<see cref="CeremonyOptions.ExpiryMinutes"/> after its first component); its components
/// are deleted with it, and an expiry's audit row is written in the same transaction.
/// </summary>
public sealed class CeremonyStore(NpgsqlDataSource db, AuditLog audit, IOptions<HsmOptions> options, TimeProvider time)
{
    /// <summary>The caller the audit log names for what the Hsm does on its own (an expiry, a clean-up).</summary>
    public const string HsmItself = "hsm";

    private TimeSpan Expiry => TimeSpan.FromMinutes(options.Value.Ceremonies.ExpiryMinutes);

    /// <summary>
    /// Adds <paramref name="component"/> to the ceremony for <paramref name="wanted"/>'s key (started
    /// by the first submission, or again after an expired one is erased) and, when
    /// <paramref name="complete"/> says the components are enough, ends it. A key id already held is
    /// K2; a ceremony stated otherwise, or a custodian's second component, is 15.
    /// </summary>
    public async Task<CeremonySubmission> SubmitAsync(Ceremony wanted, SealedComponent component,
        Func<Ceremony, IReadOnlyList<SealedComponent>, Task<bool>> complete, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();
        await using (var held = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM key_blocks WHERE key_id = $1)", connection, tx))
        {
            held.Parameters.Add(new NpgsqlParameter { Value = wanted.KeyId });
            if ((bool)(await held.ExecuteScalarAsync(ct))!)
            {
                throw new HsmException(HsmErrorCode.KeyExists, $"key id {wanted.KeyId} is held already: no ceremony forms it again");
            }
        }
        var expired = await EraseAsync(tx, "k.key_id = $1 AND k.started_at <= $2", audited: true, ct, wanted.KeyId, now - Expiry);
        await using (var start = new NpgsqlCommand(
            """
            INSERT INTO key_ceremonies (key_id, key_type, algorithm, policy, components_required, started_at)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key_id) DO NOTHING
            """, connection, tx))
        {
            start.Parameters.Add(new NpgsqlParameter { Value = wanted.KeyId });
            start.Parameters.Add(new NpgsqlParameter { Value = wanted.KeyType });
            start.Parameters.Add(new NpgsqlParameter { Value = wanted.Algorithm });
            start.Parameters.Add(new NpgsqlParameter { Value = wanted.Policy });
            start.Parameters.Add(new NpgsqlParameter { Value = (short)wanted.ComponentsRequired });
            start.Parameters.Add(new NpgsqlParameter { Value = now });
            await start.ExecuteNonQueryAsync(ct);
        }
        Ceremony stored;
        DateTimeOffset startedAt;
        await using (var read = new NpgsqlCommand(
            "SELECT key_type, algorithm, policy, components_required, started_at FROM key_ceremonies WHERE key_id = $1 FOR UPDATE", connection, tx))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = wanted.KeyId });
            await using var row = await read.ExecuteReaderAsync(ct);
            if (!await row.ReadAsync(ct))
            {
                throw new HsmException(HsmErrorCode.InvalidInput, $"the ceremony for {wanted.KeyId} ended while this component came in: submit it again");
            }
            stored = new Ceremony(wanted.KeyId, row.GetString(0), row.GetString(1), row.GetString(2), row.GetInt16(3));
            startedAt = row.GetFieldValue<DateTimeOffset>(4);
        }
        if (stored != wanted)
        {
            throw new HsmException(HsmErrorCode.InvalidInput,
                $"the ceremony for {wanted.KeyId} forms a {stored.KeyType} ({stored.Algorithm}) from {stored.ComponentsRequired} components with owners {stored.Policy}: every custodian states the same");
        }
        await using (var add = new NpgsqlCommand(
            """
            INSERT INTO key_ceremony_components (key_id, custodian, component_block, lmk_check_value, submitted_at)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id, custodian) DO NOTHING
            """, connection, tx))
        {
            add.Parameters.Add(new NpgsqlParameter { Value = wanted.KeyId });
            add.Parameters.Add(new NpgsqlParameter { Value = component.Custodian });
            add.Parameters.Add(new NpgsqlParameter { Value = component.Block });
            add.Parameters.Add(new NpgsqlParameter { Value = component.LmkCheckValue });
            add.Parameters.Add(new NpgsqlParameter { Value = now });
            if (await add.ExecuteNonQueryAsync(ct) == 0)
            {
                throw new HsmException(HsmErrorCode.InvalidInput, $"{component.Custodian} has already submitted a component of {wanted.KeyId}: each custodian submits one");
            }
        }
        var components = new List<SealedComponent>();
        await using (var all = new NpgsqlCommand(
            "SELECT custodian, component_block, lmk_check_value FROM key_ceremony_components WHERE key_id = $1 ORDER BY custodian", connection, tx))
        {
            all.Parameters.Add(new NpgsqlParameter { Value = wanted.KeyId });
            await using var rows = await all.ExecuteReaderAsync(ct);
            while (await rows.ReadAsync(ct))
            {
                components.Add(new SealedComponent(rows.GetString(0), (byte[])rows[1], rows.GetString(2)));
            }
        }
        if (await complete(stored, components))
        {
            await using var end = new NpgsqlCommand("DELETE FROM key_ceremonies WHERE key_id = $1", connection, tx);
            end.Parameters.Add(new NpgsqlParameter { Value = wanted.KeyId });
            await end.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return new CeremonySubmission(stored, components, startedAt + Expiry, expired.Sum(e => e.Components));
    }

    /// <summary>Ends the ceremony for <paramref name="keyId"/> without forming its key; the components it held, or null when none is under way.</summary>
    public async Task<int?> AbortAsync(string keyId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var aborted = await EraseAsync(tx, "k.key_id = $1", audited: false, ct, keyId);
        await tx.CommitAsync(ct);
        return aborted is [var ceremony] ? ceremony.Components : null;
    }

    /// <summary>
    /// Erases every ceremony that has expired, and every one whose key is already held: the Hsm
    /// stored the formed key (the key store's own connection) and stopped before the ceremony's rows
    /// were deleted. Each is audited in the same transaction.
    /// </summary>
    public async Task<IReadOnlyList<ErasedCeremony>> EraseEndedAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var erased = await EraseAsync(tx, "k.started_at <= $1 OR EXISTS (SELECT 1 FROM key_blocks b WHERE b.key_id = k.key_id)", audited: true, ct,
            time.GetUtcNow() - Expiry);
        await tx.CommitAsync(ct);
        return erased;
    }

    /// <summary>
    /// Deletes the ceremonies <paramref name="condition"/> selects (<c>k</c>, expired or of a held key
    /// when <paramref name="audited"/>), their components with them, and writes each one's audit row
    /// (the clean-up of a formed key's ceremony, or an expiry) in <paramref name="tx"/>. An abort is
    /// audited as the command it is.
    /// </summary>
    private async Task<IReadOnlyList<ErasedCeremony>> EraseAsync(NpgsqlTransaction tx, string condition, bool audited, CancellationToken ct, params object[] values)
    {
        await using var erase = new NpgsqlCommand(
            $"""
            WITH erased AS (
                DELETE FROM key_ceremonies k WHERE {condition}
                RETURNING k.key_id, EXISTS (SELECT 1 FROM key_blocks b WHERE b.key_id = k.key_id) AS key_held)
            SELECT e.key_id, e.key_held, count(c.custodian)::int
            FROM erased e LEFT JOIN key_ceremony_components c ON c.key_id = e.key_id
            GROUP BY e.key_id, e.key_held
            """, tx.Connection, tx);
        foreach (var value in values)
        {
            erase.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        var erased = new List<ErasedCeremony>();
        await using (var rows = await erase.ExecuteReaderAsync(ct))
        {
            while (await rows.ReadAsync(ct))
            {
                erased.Add(new ErasedCeremony(rows.GetString(0), rows.GetBoolean(1), rows.GetInt32(2)));
            }
        }
        if (!audited)
        {
            return erased;
        }
        foreach (var ceremony in erased)
        {
            await audit.RecordAsync(HsmItself, ceremony.KeyHeld ? "KeyCeremonyLeftOver" : "KeyCeremonyExpired", ceremony.KeyId, ceremony.KeyHeld
                ? $"erased: {ceremony.Components} component(s) of a key already formed"
                : $"erased: {ceremony.Components} component(s), {options.Value.Ceremonies.ExpiryMinutes} min after the first", ct, tx);
        }
        return erased;
    }
}
