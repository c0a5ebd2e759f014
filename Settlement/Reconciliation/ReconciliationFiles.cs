using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Settlement.Reconciliation;

/// <summary>
/// A merchant's files for a closed settlement date, made once and kept: the detail (对交易明细,
/// one line per transaction: order number, kind, amount, fee, net, status, masked PAN, settlement
/// date, RRN, time) and the totals (对交易总账, its batch). The gateway signs each as it serves it,
/// with the platform's files key in the Hsm; settlement holds no signing key and never calls the Hsm.
/// </summary>
public sealed class ReconciliationFiles(NpgsqlDataSource db, TimeProvider time)
{
    public const string Detail = "detail";
    public const string Totals = "totals";
    public const string DetailHeader = "settlement_date,order_id,kind,amount_minor,fee_minor,net_minor,currency,status,pan_masked,rrn,occurred_at_utc";
    public const string TotalsHeader =
        "settlement_date,merchant_id,currency,transactions,gross_sales_minor,refunds_minor,fees_minor,adjustments_minor,net_payable_minor,fund_status";

    public async Task<ReconciliationFile> GetAsync(string merchantId, DateOnly date, string kind, CancellationToken ct)
    {
        if (kind is not (Detail or Totals))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "kind is detail or totals"));
        }
        if (await StoredAsync(merchantId, date, kind, ct) is { } stored)
        {
            return stored;
        }
        await using (var closed = db.CreateCommand("SELECT 1 FROM settlement_days WHERE settlement_date = $1"))
        {
            BatchSql.Bind(closed, date);
            if (await closed.ExecuteScalarAsync(ct) is null)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{date:yyyy-MM-dd} is not closed yet: its files come with the close"));
            }
        }
        var (content, lines) = kind == Detail ? await DetailAsync(merchantId, date, ct) : await TotalsAsync(merchantId, date, ct);
        await using (var keep = db.CreateCommand(
                         """
                         INSERT INTO reconciliation_files (settlement_date, merchant_id, kind, content, lines, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
                         """))
        {
            await BatchSql.Bind(keep, date, merchantId, kind, content, lines, time.GetUtcNow())
                .ExecuteNonQueryAsync(ct);
        }
        return (await StoredAsync(merchantId, date, kind, ct))!;
    }

    private async Task<ReconciliationFile?> StoredAsync(string merchantId, DateOnly date, string kind, CancellationToken ct)
    {
        await using var find = db.CreateCommand(
            "SELECT content, lines FROM reconciliation_files WHERE settlement_date = $1 AND merchant_id = $2 AND kind = $3");
        BatchSql.Bind(find, date, merchantId, kind);
        await using var row = await find.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct)
            ? new ReconciliationFile
            {
                Name = $"{merchantId}-{date:yyyyMMdd}-{kind}.csv",
                Content = ByteString.CopyFrom(row.GetFieldValue<byte[]>(0)),
                Lines = row.GetInt32(1),
            }
            : null;
    }

    private async Task<(byte[] Content, int Lines)> DetailAsync(string merchantId, DateOnly date, CancellationToken ct)
    {
        await using var read = db.CreateCommand(
            """
            SELECT order_id, kind, amount_minor, fee_minor, currency, coalesce(pan_masked, ''), coalesce(rrn, ''), occurred_at
            FROM journal_entries WHERE settlement_date = $1 AND merchant_id = $2 AND kind IN ('purchase', 'refund', 'reversal')
            ORDER BY occurred_at, entry_id
            """);
        BatchSql.Bind(read, date, merchantId);
        var csv = new StringBuilder(DetailHeader).Append('\n');
        var lines = 0;
        await using var row = await read.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            var (kind, amount, fee) = (row.GetString(1), row.GetInt64(2), row.GetInt64(3));
            var (net, status) = kind switch
            {
                "purchase" => (amount - fee, "paid"),
                "refund" => (-amount, "refunded"),
                _ => (-(amount - fee), "reversed"),
            };
            csv.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{Field(row.GetString(0))},{kind},{amount},{fee},{net},{row.GetString(4)},{status},")
                .Append(CultureInfo.InvariantCulture, $"{Field(row.GetString(5))},{Field(row.GetString(6))},{row.GetFieldValue<DateTimeOffset>(7).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\n");
            lines++;
        }
        return (Encoding.UTF8.GetBytes(csv.ToString()), lines);
    }

    private async Task<(byte[] Content, int Lines)> TotalsAsync(string merchantId, DateOnly date, CancellationToken ct)
    {
        await using var read = db.CreateCommand(
            """
            SELECT currency, transactions, gross_sales_minor, refunds_minor, fees_minor, adjustments_minor, net_payable_minor, fund_status
            FROM batches WHERE settlement_date = $1 AND merchant_id = $2 ORDER BY currency
            """);
        BatchSql.Bind(read, date, merchantId);
        var csv = new StringBuilder(TotalsHeader).Append('\n');
        var lines = 0;
        await using var row = await read.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            csv.Append(CultureInfo.InvariantCulture,
                $"{date:yyyy-MM-dd},{merchantId},{row.GetString(0)},{row.GetInt32(1)},{row.GetInt64(2)},{row.GetInt64(3)},{row.GetInt64(4)},{row.GetInt64(5)},{row.GetInt64(6)},{row.GetString(7)}\n");
            lines++;
        }
        return (Encoding.UTF8.GetBytes(csv.ToString()), lines);
    }

    /// <summary>A CSV field: quoted when it holds a comma, a quote or a line break.</summary>
    private static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
