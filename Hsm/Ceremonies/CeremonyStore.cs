using Npgsql;

namespace Mesh.Hsm.Ceremonies;

/// <summary>A key ceremony under way: what key it forms and how many custodians' components it needs.</summary>
public sealed record Ceremony(string KeyId, string KeyType, string Algorithm, string Policy, int ComponentsRequired);

/// <summary>A custodian's component, sealed under the LMK (never in clear at rest).</summary>
public sealed record SealedComponent(string Custodian, byte[] Block, string LmkCheckValue);

/// <summary>
/// Ceremonies in hsmdb. A submission runs in one transaction with the ceremony's row locked, so two
/// custodians submitting at once are counted one after the other.
/// </summary>
public sealed class CeremonyStore(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>
    /// Adds <paramref name="component"/> to the ceremony for <paramref name="wanted"/>'s key (started
    /// by the first submission) and, when <paramref name="complete"/> says the components are enough,
    /// ends it. Returns the ceremony as stored and every component it holds, this one included; null
    /// when this custodian already submitted one.
    /// </summary>
    public async Task<(Ceremony Stored, IReadOnlyList<SealedComponent> Components)?> SubmitAsync(Ceremony wanted, SealedComponent component,
        Func<Ceremony, IReadOnlyList<SealedComponent>, Task<bool>> complete, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
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
            start.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
            await start.ExecuteNonQueryAsync(ct);
        }
        Ceremony stored;
        await using (var read = new NpgsqlCommand(
            "SELECT key_type, algorithm, policy, components_required FROM key_ceremonies WHERE key_id = $1 FOR UPDATE", connection, tx))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = wanted.KeyId });
            await using var row = await read.ExecuteReaderAsync(ct);
            await row.ReadAsync(ct);
            stored = new Ceremony(wanted.KeyId, row.GetString(0), row.GetString(1), row.GetString(2), row.GetInt16(3));
        }
        if (stored != wanted)
        {
            return (stored, []);
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
            add.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
            if (await add.ExecuteNonQueryAsync(ct) == 0)
            {
                return null;
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
        return (stored, components);
    }
}
