using System.Collections.Concurrent;
using Mesh.Hsm.Crypto;
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

    /// <summary>Re-seals a held key under another policy (provisioning states each working key's owners and uses).</summary>
    Task<HeldKey> ChangePolicyAsync(HeldKey key, KeyPolicy policy, CancellationToken ct);

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
    private readonly ConcurrentDictionary<string, HeldKey> _loaded = new(StringComparer.Ordinal);

    public async Task<HeldKey> GetAsync(string keyId, CancellationToken ct)
    {
        CheckKeyId(keyId);
        if (_loaded.TryGetValue(keyId, out var key))
        {
            return key;
        }
        await using var command = db.CreateCommand("SELECT key_block, lmk_check_value FROM key_blocks WHERE key_id = @id");
        command.Parameters.AddWithValue("id", keyId);
        await using var row = await command.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            throw new HsmException(HsmErrorCode.KeyNotFound, $"no key {keyId}");
        }
        key = lmk.Open((byte[])row[0], keyId, row.GetString(1));
        return _loaded.GetOrAdd(keyId, key);
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
        return inserted ? _loaded.GetOrAdd(key.KeyId, key) : await GetAsync(key.KeyId, ct);
    }

    public async Task<HeldKey> ChangePolicyAsync(HeldKey key, KeyPolicy policy, CancellationToken ct)
    {
        var changed = key.WithPolicy(policy);
        await using var command = db.CreateCommand(
            "UPDATE key_blocks SET key_block = @block, lmk_check_value = @lmk WHERE key_id = @id");
        command.Parameters.AddWithValue("id", key.KeyId);
        command.Parameters.AddWithValue("block", lmk.Seal(changed));
        command.Parameters.AddWithValue("lmk", lmk.CheckValue);
        await command.ExecuteNonQueryAsync(ct);
        _loaded[key.KeyId] = changed;
        return changed;
    }

    public async Task<IReadOnlyList<string>> TypesWithCheckValueAsync(string checkValue, string keyId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT DISTINCT key_type FROM key_blocks WHERE check_value = @kcv AND key_id <> @id");
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
        var blocks = new List<(string KeyId, byte[] Block, string LmkCheckValue)>();
        await using (var select = new NpgsqlCommand(
            "SELECT key_id, key_block, lmk_check_value FROM key_blocks WHERE lmk_check_value <> @kcv ORDER BY key_id FOR UPDATE", connection, tx))
        {
            select.Parameters.AddWithValue("kcv", lmkCheckValue);
            await using var rows = await select.ExecuteReaderAsync(ct);
            while (await rows.ReadAsync(ct))
            {
                blocks.Add((rows.GetString(0), (byte[])rows[1], rows.GetString(2)));
            }
        }
        foreach (var (keyId, block, sealedUnder) in blocks)
        {
            var key = lmk.Open(block, keyId, sealedUnder);
            await using var update = new NpgsqlCommand(
                "UPDATE key_blocks SET key_block = @block, lmk_check_value = @kcv WHERE key_id = @id", connection, tx);
            update.Parameters.AddWithValue("block", seal(key));
            update.Parameters.AddWithValue("kcv", lmkCheckValue);
            update.Parameters.AddWithValue("id", keyId);
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return blocks.Count;
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
