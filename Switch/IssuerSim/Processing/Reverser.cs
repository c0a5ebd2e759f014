using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.IssuerSim.Processing;

/// <summary>A bank's reversals: what a message posted, posted back once.</summary>
public sealed class Reverser(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>
    /// Reverses a message (0420/0421): what it posted is posted back once, however often the advice
    /// is repeated; an advice for a message never seen is acknowledged and remembered, so a late
    /// original is refused instead of debiting.
    /// </summary>
    public async Task ReverseAsync(MessageKey reversed, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();
        ReversedState? state = null;
        var postings = new List<(string AccountId, long BalanceDelta, long HeldDelta)>();
        await using (var read = new NpgsqlBatch(connection, tx))
        {
            read.BatchCommands.Add(BatchSql.Command(
                """
                SELECT kind, response_code, reversed_at IS NOT NULL, amount_minor, created_at, pan_hash, original_acquirer_id, original_stan, original_transmission
                FROM authorizations WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3 FOR UPDATE
                """, reversed.AcquirerId, reversed.Stan, reversed.Transmission));
            read.BatchCommands.Add(BatchSql.Command(
                "SELECT account_id, balance_delta_minor, held_delta_minor FROM postings WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3 AND kind <> 'reversal'",
                reversed.AcquirerId, reversed.Stan, reversed.Transmission));
            await using var rows = await read.ExecuteReaderAsync(ct);
            if (await rows.ReadAsync(ct))
            {
                state = new ReversedState(rows.GetString(0), rows.GetString(1), rows.GetBoolean(2), rows.GetInt64(3), rows.GetFieldValue<DateTimeOffset>(4),
                    rows.GetFieldValue<byte[]>(5), rows.IsDBNull(6) ? null : new MessageKey(rows.GetString(6), rows.GetString(7), rows.GetString(8)));
            }
            await rows.NextResultAsync(ct);
            while (await rows.ReadAsync(ct))
            {
                postings.Add((rows.GetString(0), rows.GetInt64(1), rows.GetInt64(2)));
            }
        }
        await using (var write = new NpgsqlBatch(connection, tx))
        {
            if (state is null)
            {
                write.BatchCommands.Add(BatchSql.Command(
                    """
                    INSERT INTO authorizations (acquirer_id, stan, transmission, pan_hash, amount_minor, response_code, reversed_at, created_at, kind)
                    VALUES ($1, $2, $3, '\x'::bytea, 0, '12', $4, $4, 'reversal_only')
                    """, reversed.AcquirerId, reversed.Stan, reversed.Transmission, now));
            }
            else if (!state.Reversed)
            {
                foreach (var account in postings.GroupBy(p => p.AccountId))
                {
                    write.BatchCommands.Add(BatchSql.Command("UPDATE accounts SET balance_minor = balance_minor - $2, held_minor = held_minor - $3 WHERE account_id = $1",
                        account.Key, account.Sum(p => p.BalanceDelta), account.Sum(p => p.HeldDelta)));
                }
                foreach (var (accountId, balanceDelta, heldDelta) in postings)
                {
                    write.BatchCommands.Add(BatchSql.Command(
                        "INSERT INTO postings (account_id, kind, balance_delta_minor, held_delta_minor, acquirer_id, stan, transmission, created_at) VALUES ($1, 'reversal', $2, $3, $4, $5, $6, $7)",
                        accountId, -balanceDelta, -heldDelta, reversed.AcquirerId, reversed.Stan, reversed.Transmission, now));
                }
                if (state.ResponseCode == ResponseCodes.Approved)
                {
                    AddUndo(write, state);
                }
                write.BatchCommands.Add(BatchSql.Command("UPDATE authorizations SET reversed_at = $4 WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
                    reversed.AcquirerId, reversed.Stan, reversed.Transmission, now));
            }
            if (write.BatchCommands.Count > 0)
            {
                await write.ExecuteNonQueryAsync(ct);
            }
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>What an approved message changed besides postings, put back: the card's spending today, a pre-authorization's completion, a purchase's refunded amount.</summary>
    private static void AddUndo(NpgsqlBatch write, ReversedState state)
    {
        switch (state.Kind)
        {
            case "purchase" or "preauth":
                write.BatchCommands.Add(BatchSql.Command("UPDATE cards SET spent_today_minor = greatest(0, spent_today_minor - $2) WHERE pan_hash = $1 AND spent_on = $3",
                    state.PanHash, state.AmountMinor, DateOnly.FromDateTime(state.CreatedAt.UtcDateTime)));
                break;
            case "completion" when state.Original is { } preauth:
                write.BatchCommands.Add(BatchSql.Command("UPDATE authorizations SET completed_at = NULL WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
                    preauth.AcquirerId, preauth.Stan, preauth.Transmission));
                break;
            case "refund" when state.Original is { } purchase:
                write.BatchCommands.Add(BatchSql.Command("UPDATE authorizations SET refunded_minor = refunded_minor - $4 WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
                    purchase.AcquirerId, purchase.Stan, purchase.Transmission, state.AmountMinor));
                break;
        }
    }

    private sealed record ReversedState(string Kind, string ResponseCode, bool Reversed, long AmountMinor, DateTimeOffset CreatedAt, byte[] PanHash,
        MessageKey? Original);
}
