using System.Diagnostics;
using Mesh.Iso8583.Messages;
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
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO message_journal (issuer, mti, stan, network_code, response_code, outcome, latency_ms, trace_id, recorded_at, pan_masked, amount_minor)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """);
        Add(command, party);
        Add(command, request.Mti);
        Add(command, request.GetString(IsoFields.Stan) ?? "000000");
        Add(command, request.GetString(IsoFields.NetworkManagementCode));
        Add(command, answer?.GetString(IsoFields.ResponseCode));
        Add(command, ToColumn(outcome));
        Add(command, latencyMs);
        Add(command, Activity.Current?.TraceId.ToString());
        Add(command, time.GetUtcNow());
        Add(command, request.GetString(IsoFields.Pan) is { } pan ? Pan.Mask(pan) : null);
        Add(command, long.TryParse(request.GetString(IsoFields.AmountTransaction), System.Globalization.CultureInfo.InvariantCulture, out var amount)
            ? amount : null);
        return command;
    }

    private static void Add(NpgsqlBatchCommand command, object? value) => command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });

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
