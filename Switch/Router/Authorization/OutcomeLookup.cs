using Google.Protobuf;
using Mesh.Contracts.Switch;
using Mesh.ServiceDefaults.Database;
using Mesh.Switch.Options;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Switch.Authorization;

/// <summary>
/// An acquirer that lost the switch's answer asks here what became of its request: the answer it
/// was given, and, for an unknown outcome, whether the reversal owed to the issuer is acknowledged.
/// </summary>
public sealed class OutcomeLookup(NpgsqlDataSource db, IOptions<SwitchOptions> options)
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
        BatchSql.Bind(find, acquirerId, stan, transmission);
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

    public const int ListedMax = 200_000;

    /// <summary>The requests received in [from, to), the earliest first, with their answers and reversals: at most <paramref name="limit"/>.</summary>
    public async Task<ListAuthorizationsReply> ListAsync(DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken ct)
    {
        await using var list = db.CreateCommand(
            """
            SELECT a.acquirer_id, a.stan, a.transmission, coalesce(a.mti, ''), coalesce(a.processing_code, ''), coalesce(a.amount_minor, 0),
                   coalesce(a.response_code, ''), coalesce(a.issuer, ''), r.advice_mti, r.acknowledged_at IS NOT NULL, coalesce(a.currency, ''), a.created_at
            FROM authorizations a
            LEFT JOIN reversals r ON r.acquirer_id = a.acquirer_id AND r.stan = a.stan AND r.transmission = a.transmission
            WHERE a.created_at >= $1 AND a.created_at < $2
            ORDER BY a.created_at LIMIT $3
            """);
        BatchSql.Bind(list, from.ToUniversalTime(), to.ToUniversalTime(), limit + 1);
        var bankIds = options.Value.Issuers.ToDictionary(i => i.Name, i => i.BankId, StringComparer.Ordinal);
        var reply = new ListAuthorizationsReply();
        await using var row = await list.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            if (reply.Records.Count == limit)
            {
                reply.Truncated = true;
                break;
            }
            reply.Records.Add(new SwitchRecord
            {
                AcquirerId = row.GetString(0),
                Stan = row.GetString(1),
                Transmission = row.GetString(2),
                Mti = row.GetString(3),
                ProcessingCode = row.GetString(4),
                AmountMinor = row.GetInt64(5),
                ResponseCode = row.GetString(6),
                Issuer = row.GetString(7),
                IssuerId = bankIds.GetValueOrDefault(row.GetString(7), ""),
                Currency = row.GetString(10),
                ReceivedAtUnixMs = row.GetFieldValue<DateTimeOffset>(11).ToUnixTimeMilliseconds(),
                Reversal = row.IsDBNull(8) || row.GetString(8) != "0420" ? ReversalState.None
                    : row.GetBoolean(9) ? ReversalState.Acknowledged : ReversalState.Pending,
            });
        }
        return reply;
    }
}
