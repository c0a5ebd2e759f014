using Grpc.Core;
using Mesh.Contracts.Settlement;
using Npgsql;

namespace Mesh.Settlement.Grpc;

public sealed class SettlementService(NpgsqlDataSource db, TimeProvider time) : Contracts.Settlement.Settlement.SettlementBase
{
    public override async Task<SettlementDiagnosticsReply> Diagnostics(SettlementDiagnosticsRequest request, ServerCallContext context)
    {
        var started = time.GetTimestamp();
        await using var command = db.CreateCommand("SELECT current_setting('server_version'), (SELECT count(*) FROM schema_version)");
        await using var reader = await command.ExecuteReaderAsync(context.CancellationToken);
        await reader.ReadAsync(context.CancellationToken);
        return new SettlementDiagnosticsReply
        {
            DatabaseOk = reader.GetInt64(1) > 0,
            DatabaseVersion = reader.GetString(0),
            DatabaseLatencyMs = time.GetElapsedTime(started).TotalMilliseconds,
        };
    }
}
