using System.Collections.Concurrent;
using Mesh.Hsm.Crypto;
using Mesh.ServiceDefaults.Safety;
using Npgsql;

namespace Mesh.Hsm.Keys;

/// <summary>Where the Hsm's keys are held: by id, each under the LMK.</summary>
public interface IKeyStore
{
    /// <summary>The key with that id; error K1 when there is none.</summary>
    Task<HeldKey> GetAsync(string keyId, CancellationToken ct);

    /// <summary>Stores a new key. Returns the key already held under that id, if any.</summary>
    Task<HeldKey> AddAsync(HeldKey key, CancellationToken ct);

    Task<long> CountAsync(CancellationToken ct);

    /// <summary>The types of the held keys, other than <paramref name="keyId"/>, whose check value is <paramref name="checkValue"/>.</summary>
    Task<IReadOnlyList<string>> TypesWithCheckValueAsync(string checkValue, string keyId, CancellationToken ct);

    /// <summary>Re-seals a held key, every version of it, under another policy (provisioning states each working key's owners and uses).</summary>
    Task<HeldKey> ChangePolicyAsync(HeldKey key, KeyPolicy policy, CancellationToken ct);

    /// <summary>The key id's versions (<see cref="KeySlot"/>); error K1 when there is none.</summary>
    Task<KeySlot> GetSlotAsync(string keyId, CancellationToken ct);

    /// <summary>Stores the versions of a held key id (a change of its pending, current or previous version).</summary>
    Task<KeySlot> SaveSlotAsync(KeySlot slot, CancellationToken ct);

    /// <summary>Re-seals every key not yet under <paramref name="lmkCheckValue"/> with <paramref name="seal"/>, in one transaction.</summary>
    Task<long> ResealAllAsync(Func<HeldKey, byte[]> seal, string lmkCheckValue, CancellationToken ct);

    /// <summary>How many keys are sealed under the LMK with that check value.</summary>
    Task<long> CountSealedUnderAsync(string lmkCheckValue, CancellationToken ct);
}

/// <summary>
/// Keys held under the LMK in hsmdb, opened on first use and kept in the Hsm's memory after
/// that (the way a security module keeps its working keys loaded).
/// </summary>
public sealed class KeyStore(NpgsqlDataSource db, LocalMasterKey lmk, TimeProvider time) : IKeyStore
{
    public const int KeyIdLengthMax = 64;
    private readonly ConcurrentDictionary<string, KeySlot> _loaded = new(StringComparer.Ordinal);

    public async Task<HeldKey> GetAsync(string keyId, CancellationToken ct) => (await GetSlotAsync(keyId, ct)).Current;

    public async Task<KeySlot> GetSlotAsync(string keyId, CancellationToken ct)
    {
        CheckKeyId(keyId);
        if (_loaded.TryGetValue(keyId, out var slot))
        {
            return slot;
        }
        await using var command = db.CreateCommand(
            "SELECT key_block, lmk_check_value, pending_block, previous_block, previous_retires_at FROM key_blocks WHERE key_id = @id");
        command.Parameters.AddWithValue("id", keyId);
        await using var row = await command.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            throw new HsmException(HsmErrorCode.KeyNotFound, $"no key {keyId}");
        }
        var sealedUnder = row.GetString(1);
        slot = new KeySlot(lmk.Open((byte[])row[0], keyId, sealedUnder),
            row.IsDBNull(2) ? null : lmk.Open((byte[])row[2], keyId, sealedUnder),
            row.IsDBNull(3) ? null : lmk.Open((byte[])row[3], keyId, sealedUnder),
            row.IsDBNull(4) ? null : row.GetFieldValue<DateTimeOffset>(4));
        return _loaded.GetOrAdd(keyId, slot);
    }

    public async Task<KeySlot> SaveSlotAsync(KeySlot slot, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            UPDATE key_blocks SET key_block = @block, check_value = @kcv, lmk_check_value = @lmk,
                pending_block = @pending, pending_check_value = @pending_kcv,
                previous_block = @previous, previous_check_value = @previous_kcv, previous_retires_at = @retires, changed_at = @at
            WHERE key_id = @id
            """);
        AddSlotParameters(command, slot, lmk.Seal, lmk.CheckValue);
        command.Parameters.AddWithValue("at", time.GetUtcNow());
        Invariant.Holds(await command.ExecuteNonQueryAsync(ct) == 1, "a key slot is saved over the row it was read from");
        _loaded[slot.KeyId] = slot;
        return slot;
    }

    private static void AddSlotParameters(NpgsqlCommand command, KeySlot slot, Func<HeldKey, byte[]> seal, string lmkCheckValue)
    {
        command.Parameters.AddWithValue("id", slot.KeyId);
        command.Parameters.AddWithValue("block", seal(slot.Current));
        command.Parameters.AddWithValue("kcv", slot.Current.CheckValue);
        command.Parameters.AddWithValue("lmk", lmkCheckValue);
        command.Parameters.Add(new NpgsqlParameter<byte[]?>("pending", slot.Pending is null ? null : seal(slot.Pending)) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter<string?>("pending_kcv", slot.Pending?.CheckValue) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<byte[]?>("previous", slot.Previous is null ? null : seal(slot.Previous)) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter<string?>("previous_kcv", slot.Previous?.CheckValue) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?>("retires", slot.PreviousRetiresAt) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
    }

    public async Task<HeldKey> AddAsync(HeldKey key, CancellationToken ct)
    {
        CheckKeyId(key.KeyId);
        await using var command = db.CreateCommand(
            """
            INSERT INTO key_blocks (key_id, key_type, key_block, check_value, lmk_check_value, created_at)
            VALUES (@id, @type, @block, @kcv, @lmk, @at)
            ON CONFLICT (key_id) DO NOTHING
            """);
        command.Parameters.AddWithValue("id", key.KeyId);
        command.Parameters.AddWithValue("type", key.Type.ToString());
        command.Parameters.AddWithValue("block", lmk.Seal(key));
        command.Parameters.AddWithValue("kcv", key.CheckValue);
        command.Parameters.AddWithValue("lmk", lmk.CheckValue);
        command.Parameters.AddWithValue("at", time.GetUtcNow());
        var inserted = await command.ExecuteNonQueryAsync(ct) == 1;
        return inserted ? _loaded.GetOrAdd(key.KeyId, new KeySlot(key)).Current : await GetAsync(key.KeyId, ct);
    }

    public async Task<HeldKey> ChangePolicyAsync(HeldKey key, KeyPolicy policy, CancellationToken ct) =>
        (await SaveSlotAsync((await GetSlotAsync(key.KeyId, ct)).WithPolicy(policy), ct)).Current;

    public async Task<IReadOnlyList<string>> TypesWithCheckValueAsync(string checkValue, string keyId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT DISTINCT key_type FROM key_blocks WHERE @kcv IN (check_value, pending_check_value, previous_check_value) AND key_id <> @id");
        command.Parameters.AddWithValue("kcv", checkValue);
        command.Parameters.AddWithValue("id", keyId);
        var types = new List<string>();
        await using var rows = await command.ExecuteReaderAsync(ct);
        while (await rows.ReadAsync(ct))
        {
            types.Add(rows.GetString(0));
        }
        return types;
    }

    public async Task<long> CountAsync(CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT count(*) FROM key_blocks");
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<long> ResealAllAsync(Func<HeldKey, byte[]> seal, string lmkCheckValue, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var slots = new List<KeySlot>();
        await using (var select = new NpgsqlCommand(
            """
            SELECT key_id, key_block, lmk_check_value, pending_block, previous_block, previous_retires_at
            FROM key_blocks WHERE lmk_check_value <> @kcv ORDER BY key_id FOR UPDATE
            """, connection, tx))
        {
            select.Parameters.AddWithValue("kcv", lmkCheckValue);
            await using var rows = await select.ExecuteReaderAsync(ct);
            while (await rows.ReadAsync(ct))
            {
                var (keyId, sealedUnder) = (rows.GetString(0), rows.GetString(2));
                slots.Add(new KeySlot(lmk.Open((byte[])rows[1], keyId, sealedUnder),
                    rows.IsDBNull(3) ? null : lmk.Open((byte[])rows[3], keyId, sealedUnder),
                    rows.IsDBNull(4) ? null : lmk.Open((byte[])rows[4], keyId, sealedUnder),
                    rows.IsDBNull(5) ? null : rows.GetFieldValue<DateTimeOffset>(5)));
            }
        }
        foreach (var slot in slots)
        {
            // Every version of the key moves to the new LMK with it.
            await using var update = new NpgsqlCommand(
                """
                UPDATE key_blocks SET key_block = @block, check_value = @kcv, lmk_check_value = @lmk, pending_block = @pending,
                    pending_check_value = @pending_kcv, previous_block = @previous, previous_check_value = @previous_kcv, previous_retires_at = @retires
                WHERE key_id = @id
                """, connection, tx);
            AddSlotParameters(update, slot, seal, lmkCheckValue);
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return slots.Count;
    }

    public async Task<long> CountSealedUnderAsync(string lmkCheckValue, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT count(*) FROM key_blocks WHERE lmk_check_value = @kcv");
        command.Parameters.AddWithValue("kcv", lmkCheckValue);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    internal static void CheckKeyId(string keyId)
    {
        if (string.IsNullOrEmpty(keyId) || keyId.Length > KeyIdLengthMax || keyId.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"a key id is 1 to {KeyIdLengthMax} of A-Z a-z 0-9 - _ . :");
        }
    }
}
