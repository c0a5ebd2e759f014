using Mesh.ServiceDefaults.Access;
using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.IssuerSim.Reconciliation;

/// <summary>
/// What the bank moved for one message: the net of its postings on the account's balance (negative: the card was debited). A
/// pre-authorization's hold, and its release, move no money and net to nothing here; its completion is the debit.
/// </summary>
public sealed record PostedMessage(string AcquirerId, string Stan, string Transmission, long NetMinor);

/// <summary>
/// The bank's side of reconciliation: <c>GET /admin/postings?fromUnixMs&amp;toUnixMs</c>, the net
/// of its postings per message (acquirer, STAN, transmission time) made in the window; a reversal
/// is posted under the message it reverses. Settlement's credential or an operator's.
/// </summary>
public static class PostingsApi
{
    public const int ListedMax = 200_000;

    public static WebApplication MapPostingsApi(this WebApplication app)
    {
        app.MapGet("/admin/postings", async (long fromUnixMs, long toUnixMs, NpgsqlDataSource db, CancellationToken ct) =>
        {
            if (fromUnixMs <= 0 || toUnixMs <= fromUnixMs)
            {
                return Results.Problem("fromUnixMs before toUnixMs", statusCode: StatusCodes.Status400BadRequest, title: "A window is needed");
            }
            await using var list = db.CreateCommand(
                """
                SELECT acquirer_id, stan, transmission, sum(balance_delta_minor)::bigint FROM postings
                WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2, 3 LIMIT $3
                """);
            BatchSql.Bind(list, DateTimeOffset.FromUnixTimeMilliseconds(fromUnixMs), DateTimeOffset.FromUnixTimeMilliseconds(toUnixMs), ListedMax);
            var posted = new List<PostedMessage>();
            await using var row = await list.ExecuteReaderAsync(ct);
            while (await row.ReadAsync(ct))
            {
                posted.Add(new PostedMessage(row.GetString(0).TrimStart('0'), row.GetString(1), row.GetString(2), row.GetInt64(3)));
            }
            return Results.Ok(posted);
        }).RequireMeshCaller(MeshRoles.Settlement, MeshRoles.Operator);
        return app;
    }
}
