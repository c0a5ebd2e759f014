using Npgsql;

namespace Mesh.Switch.KeyChange;

/// <summary>One key's change on one link as the audit trail keeps it.</summary>
public sealed record ZoneKeyChangeRecord(
    string Issuer, string Key, string InitiatedBy, string Outcome, string PreviousCheckValue, string OfferedCheckValue,
    string AnsweredCheckValue, string ResponseCode, int GraceSeconds, string Detail);

/// <summary>
/// switchdb's side of zone key changes: the per-link schedule (a due change is claimed by one switch
/// replica), the lock that lets one change run per link at a time, and the audit rows.
/// </summary>
public sealed class ZoneKeyChangeStore(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>Claims the link's scheduled change if it is due, and sets the next one; a link seen first is scheduled one interval on.</summary>
    public async Task<bool> ClaimDueAsync(string issuer, TimeSpan interval, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using (var first = db.CreateCommand("INSERT INTO zone_key_schedule (issuer, next_due_at) VALUES (@issuer, @next) ON CONFLICT (issuer) DO NOTHING"))
        {
            first.Parameters.AddWithValue("issuer", issuer);
            first.Parameters.AddWithValue("next", now + interval);
            await first.ExecuteNonQueryAsync(ct);
        }
        await using var claim = db.CreateCommand("UPDATE zone_key_schedule SET next_due_at = @next WHERE issuer = @issuer AND next_due_at <= @now RETURNING issuer");
        claim.Parameters.AddWithValue("issuer", issuer);
        claim.Parameters.AddWithValue("next", now + interval);
        claim.Parameters.AddWithValue("now", now);
        return await claim.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>
    /// The link's change lock, held in a transaction until disposed: null when another change of the
    /// link (this replica's or another's) holds it.
    /// </summary>
    public async Task<IAsyncDisposable?> TryLockAsync(string issuer, CancellationToken ct)
    {
        var connection = await db.OpenConnectionAsync(ct);
        var tx = await connection.BeginTransactionAsync(ct);
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(hashtext('zone-key-change:' || @issuer))", connection, tx);
        command.Parameters.AddWithValue("issuer", issuer);
        if (await command.ExecuteScalarAsync(ct) is true)
        {
            return new Held(connection, tx);
        }
        await tx.DisposeAsync();
        await connection.DisposeAsync();
        return null;
    }

    public async Task RecordAsync(ZoneKeyChangeRecord change, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            INSERT INTO zone_key_changes (issuer, key_kind, initiated_by, outcome, previous_check_value, offered_check_value,
                answered_check_value, response_code, grace_seconds, detail, at)
            VALUES (@issuer, @key, @by, @outcome, @previous, @offered, @answered, @code, @grace, @detail, @at)
            """);
        command.Parameters.AddWithValue("issuer", change.Issuer);
        command.Parameters.AddWithValue("key", change.Key);
        command.Parameters.AddWithValue("by", change.InitiatedBy);
        command.Parameters.AddWithValue("outcome", change.Outcome);
        command.Parameters.AddWithValue("previous", change.PreviousCheckValue);
        command.Parameters.AddWithValue("offered", change.OfferedCheckValue);
        command.Parameters.AddWithValue("answered", change.AnsweredCheckValue);
        command.Parameters.AddWithValue("code", change.ResponseCode);
        command.Parameters.AddWithValue("grace", change.GraceSeconds);
        command.Parameters.AddWithValue("detail", change.Detail);
        command.Parameters.AddWithValue("at", time.GetUtcNow());
        await command.ExecuteNonQueryAsync(ct);
    }

    private sealed class Held(NpgsqlConnection connection, NpgsqlTransaction tx) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await tx.DisposeAsync(); // rolled back: the lock goes with the transaction
            await connection.DisposeAsync();
        }
    }
}
