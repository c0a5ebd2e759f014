using System.Diagnostics;
using Npgsql;

namespace Mesh.Hsm.Access;

/// <summary>The audit log of key-management commands and refusals, in hsmdb. Never a PIN or key value.</summary>
public sealed class AuditLog(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>Writes a row; inside <paramref name="within"/> when given, so the row commits with what it records.</summary>
    public async Task RecordAsync(string caller, string command, string? keyId, string outcome, CancellationToken ct, NpgsqlTransaction? within = null)
    {
        const string Insert = "INSERT INTO audit_log (at, caller, command, key_id, outcome, trace_id) VALUES (@at, @caller, @command, @key, @outcome, @trace)";
        await using var insert = within is null ? db.CreateCommand(Insert) : new NpgsqlCommand(Insert, within.Connection, within);
        insert.Parameters.AddWithValue("at", time.GetUtcNow());
        insert.Parameters.AddWithValue("caller", caller);
        insert.Parameters.AddWithValue("command", command);
        insert.Parameters.AddWithValue("key", (object?)keyId ?? DBNull.Value);
        insert.Parameters.AddWithValue("outcome", outcome);
        insert.Parameters.AddWithValue("trace", (object?)Activity.Current?.TraceId.ToString() ?? DBNull.Value);
        await insert.ExecuteNonQueryAsync(ct);
    }
}
