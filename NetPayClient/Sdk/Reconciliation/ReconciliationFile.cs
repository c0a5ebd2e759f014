using System.Globalization;
using System.Text;

namespace Mesh.NetPay.Reconciliation;

/// <summary>One line of a detail file (对交易明细): a payment, refund or reversal settled on the date.</summary>
public sealed record DetailLine(DateOnly SettlementDate, string OrderId, string Kind, long AmountMinor, long FeeMinor, long NetMinor, string Currency,
    string Status, string MaskedPan, string Rrn, DateTimeOffset OccurredAt);

/// <summary>One line of a totals file (对交易总账): a currency's totals for the date and its batch's fund status.</summary>
public sealed record TotalsLine(DateOnly SettlementDate, string MerchantId, string Currency, int Transactions, long GrossSalesMinor, long RefundsMinor,
    long FeesMinor, long AdjustmentsMinor, long NetPayableMinor, string FundStatus);

/// <summary>
/// Reads the platform's reconciliation files: UTF-8 CSV with a header line, fields quoted only
/// when they hold a comma, a quote or a line break. A file whose header is not the one this SDK
/// knows is refused rather than misread.
/// </summary>
public static class ReconciliationFile
{
    /// <summary>The detail file's header.</summary>
    public const string DetailHeader = "settlement_date,order_id,kind,amount_minor,fee_minor,net_minor,currency,status,pan_masked,rrn,occurred_at_utc";

    /// <summary>The totals file's header.</summary>
    public const string TotalsHeader =
        "settlement_date,merchant_id,currency,transactions,gross_sales_minor,refunds_minor,fees_minor,adjustments_minor,net_payable_minor,fund_status";

    /// <summary>Longest line read, in characters.</summary>
    public const int LineCharsMax = 4096;

    /// <summary>The detail lines of a file, read as they are needed.</summary>
    public static async IAsyncEnumerable<DetailLine> ReadDetailAsync(Stream csv)
    {
        await foreach (var f in RowsAsync(csv, DetailHeader, 11))
        {
            yield return new DetailLine(Date(f[0]), f[1], f[2], Long(f[3]), Long(f[4]), Long(f[5]), f[6], f[7], f[8], f[9],
                DateTimeOffset.ParseExact(f[10], "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));
        }
    }

    /// <summary>The totals lines of a file.</summary>
    public static async IAsyncEnumerable<TotalsLine> ReadTotalsAsync(Stream csv)
    {
        await foreach (var f in RowsAsync(csv, TotalsHeader, 10))
        {
            yield return new TotalsLine(Date(f[0]), f[1], f[2], int.Parse(f[3], NumberStyles.None, CultureInfo.InvariantCulture), Long(f[4]), Long(f[5]),
                Long(f[6]), Long(f[7]), Long(f[8]), f[9]);
        }
    }

    private static async IAsyncEnumerable<string[]> RowsAsync(Stream csv, string header, int columns)
    {
        using var reader = new StreamReader(csv, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var first = await reader.ReadLineAsync();
        if (first != header)
        {
            throw new FormatException($"not a reconciliation file of this kind: the header is not '{header}'");
        }
        var number = 1;
        while (await ReadRecordAsync(reader) is { } record)
        {
            number++;
            var fields = Split(record);
            if (fields.Count != columns)
            {
                throw new FormatException($"line {number}: {fields.Count} fields, {columns} expected");
            }
            yield return [.. fields];
        }
    }

    /// <summary>One CSV record, which a quoted line break may carry over several lines.</summary>
    private static async Task<string?> ReadRecordAsync(StreamReader reader)
    {
        var line = await reader.ReadLineAsync();
        while (line is { Length: 0 })
        {
            line = await reader.ReadLineAsync(); // a blank line is no record
        }
        if (line is null)
        {
            return null;
        }
        var record = new StringBuilder(line);
        while (record.ToString().Count(c => c == '"') % 2 == 1)
        {
            var more = await reader.ReadLineAsync() ?? throw new FormatException("a quoted field is not closed");
            record.Append('\n').Append(more);
            if (record.Length > LineCharsMax)
            {
                throw new FormatException($"a record of more than {LineCharsMax} characters");
            }
        }
        return record.ToString();
    }

    private static List<string> Split(string record)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < record.Length; i++)
        {
            var c = record[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < record.Length && record[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }
        fields.Add(field.ToString());
        return fields;
    }

    private static DateOnly Date(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static long Long(string text) => long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
