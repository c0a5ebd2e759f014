using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Keys;
using Npgsql;

namespace Mesh.Hsm.Grpc;

public sealed class HsmService(LocalMasterKey lmk, NpgsqlDataSource db, TimeProvider time) : Contracts.Hsm.Hsm.HsmBase
{
    public const string FirmwareVersion = "mesh-hsm-0.1";

    /// <summary>payShield NC: the LMK check value and what the key store holds.</summary>
    public override async Task<HsmDiagnosticsReply> Diagnostics(HsmDiagnosticsRequest request, ServerCallContext context)
    {
        var started = time.GetTimestamp();
        await using var command = db.CreateCommand("SELECT count(*) FROM key_blocks");
        var keyCount = (long)(await command.ExecuteScalarAsync(context.CancellationToken))!;
        return new HsmDiagnosticsReply
        {
            LmkCheckValue = lmk.CheckValue,
            LmkAlgorithm = lmk.Algorithm,
            KeyCount = keyCount,
            DatabaseLatencyMs = time.GetElapsedTime(started).TotalMilliseconds,
            FirmwareVersion = FirmwareVersion,
        };
    }
}
