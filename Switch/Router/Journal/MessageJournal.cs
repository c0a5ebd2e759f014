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
        await using var command = db.CreateCommand(
            """
            INSERT INTO message_journal (issuer, mti, stan, network_code, response_code, outcome, latency_ms, trace_id, recorded_at, pan_masked, amount_minor)
            VALUES (@issuer, @mti, @stan, @network, @response, @outcome, @latency, @trace, @at, @pan, @amount)
            """);
        command.Parameters.AddWithValue("issuer", party);
        command.Parameters.AddWithValue("mti", request.Mti);
        command.Parameters.AddWithValue("stan", request.GetString(IsoFields.Stan) ?? "000000");
        command.Parameters.AddWithValue("network", (object?)request.GetString(IsoFields.NetworkManagementCode) ?? DBNull.Value);
        command.Parameters.AddWithValue("response", (object?)answer?.GetString(IsoFields.ResponseCode) ?? DBNull.Value);
        command.Parameters.AddWithValue("outcome", ToColumn(outcome));
        command.Parameters.AddWithValue("latency", latencyMs);
        command.Parameters.AddWithValue("trace", (object?)Activity.Current?.TraceId.ToString() ?? DBNull.Value);
        command.Parameters.AddWithValue("at", time.GetUtcNow());
        command.Parameters.AddWithValue("pan", request.GetString(IsoFields.Pan) is { } pan ? Pan.Mask(pan) : DBNull.Value);
        command.Parameters.AddWithValue("amount", long.TryParse(request.GetString(IsoFields.AmountTransaction), System.Globalization.CultureInfo.InvariantCulture, out var amount)
            ? amount : DBNull.Value);
        await command.ExecuteNonQueryAsync(ct);
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
