using System.Diagnostics;
using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Switch.Journal;

public enum ExchangeOutcome
{
    Answered,
    Timeout,
    LinkDown,
    Error,
    Late,
    FormatError,
    Refused,
}

/// <summary>The switch's record of what it exchanged with which party and what came back; the PAN only masked.</summary>
public sealed class MessageJournal(NpgsqlDataSource db, TimeProvider time)
{
    public async Task RecordAsync(string party, IsoMessage request, IsoMessage? answer, ExchangeOutcome outcome, double latencyMs, CancellationToken ct)
    {
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(Entry(party, request, answer, outcome, latencyMs));
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The journal row for an exchange, to be written in the same round trip as what the exchange decided.</summary>
    public NpgsqlBatchCommand Entry(string party, IsoMessage request, IsoMessage? answer, ExchangeOutcome outcome, double latencyMs)
    {
        return BatchSql.Command(
            """
            INSERT INTO message_journal (issuer, mti, stan, network_code, response_code, outcome, latency_ms, trace_id, recorded_at, pan_masked, amount_minor)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """,
            party, request.Mti, request.GetString(IsoFields.Stan) ?? "000000", request.GetString(IsoFields.NetworkManagementCode),
            answer?.GetString(IsoFields.ResponseCode), ToColumn(outcome), latencyMs, Activity.Current?.TraceId.ToString(), time.GetUtcNow(),
            request.GetString(IsoFields.Pan) is { } pan ? Pan.Mask(pan) : null,
            long.TryParse(request.GetString(IsoFields.AmountTransaction), System.Globalization.CultureInfo.InvariantCulture, out var amount) ? amount : null);
    }

    private static string ToColumn(ExchangeOutcome outcome) => outcome switch
    {
        ExchangeOutcome.Answered => "answered",
        ExchangeOutcome.Timeout => "timeout",
        ExchangeOutcome.LinkDown => "link_down",
        ExchangeOutcome.Late => "late",
        ExchangeOutcome.FormatError => "format_error",
        ExchangeOutcome.Refused => "refused",
        _ => "error",
    };
}
