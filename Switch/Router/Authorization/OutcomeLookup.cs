using Google.Protobuf;
using Mesh.Contracts.Switch;
using Npgsql;

namespace Mesh.Switch.Authorization;

/// <summary>
/// An acquirer that lost the switch's answer asks here what became of its request: the answer it
/// was given, and, for an unknown outcome, whether the reversal owed to the issuer is acknowledged.
/// </summary>
public sealed class OutcomeLookup(NpgsqlDataSource db)
{
    public async Task<OutcomeReply> FindAsync(string acquirerId, string stan, string transmission, CancellationToken ct)
    {
        await using var find = db.CreateCommand(
            """
            SELECT a.response_code, a.answer, r.advice_mti, r.acknowledged_at IS NOT NULL
            FROM authorizations a
            LEFT JOIN reversals r ON r.acquirer_id = a.acquirer_id AND r.stan = a.stan AND r.transmission = a.transmission
            WHERE a.acquirer_id = $1 AND a.stan = $2 AND a.transmission = $3
            """);
        find.Parameters.Add(new NpgsqlParameter { Value = acquirerId });
        find.Parameters.Add(new NpgsqlParameter { Value = stan });
        find.Parameters.Add(new NpgsqlParameter { Value = transmission });
        await using var row = await find.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            return new OutcomeReply { Received = false };
        }
        var reply = new OutcomeReply
        {
            Received = true,
            ResponseCode = row.IsDBNull(0) ? "" : row.GetString(0),
            Answer = row.IsDBNull(1) ? ByteString.Empty : ByteString.CopyFrom(row.GetFieldValue<byte[]>(1)),
        };
        // A refund advice owed to the issuer is not a reversal of the acquirer's request.
        if (!row.IsDBNull(2) && row.GetString(2) == "0420")
        {
            reply.Reversal = row.GetBoolean(3) ? ReversalState.Acknowledged : ReversalState.Pending;
        }
        return reply;
    }
}
