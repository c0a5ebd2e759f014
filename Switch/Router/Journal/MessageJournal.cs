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
}

/// <summary>The switch's record of what it sent to which bank and what came back.</summary>
public sealed class MessageJournal(NpgsqlDataSource db, TimeProvider time)
{
    public async Task RecordAsync(string issuer, IsoMessage request, IsoMessage? answer, ExchangeOutcome outcome, double latencyMs, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            INSERT INTO message_journal (issuer, mti, stan, network_code, response_code, outcome, latency_ms, trace_id, recorded_at)
            VALUES (@issuer, @mti, @stan, @network, @response, @outcome, @latency, @trace, @at)
            """);
        command.Parameters.AddWithValue("issuer", issuer);
        command.Parameters.AddWithValue("mti", request.Mti);
        command.Parameters.AddWithValue("stan", request.GetString(IsoFields.Stan) ?? "000000");
        command.Parameters.AddWithValue("network", (object?)request.GetString(IsoFields.NetworkManagementCode) ?? DBNull.Value);
        command.Parameters.AddWithValue("response", (object?)answer?.GetString(IsoFields.ResponseCode) ?? DBNull.Value);
        command.Parameters.AddWithValue("outcome", ToColumn(outcome));
        command.Parameters.AddWithValue("latency", latencyMs);
        command.Parameters.AddWithValue("trace", (object?)Activity.Current?.TraceId.ToString() ?? DBNull.Value);
        command.Parameters.AddWithValue("at", time.GetUtcNow());
        await command.ExecuteNonQueryAsync(ct);
    }

    private static string ToColumn(ExchangeOutcome outcome) => outcome switch
    {
        ExchangeOutcome.Answered => "answered",
        ExchangeOutcome.Timeout => "timeout",
        ExchangeOutcome.LinkDown => "link_down",
        _ => "error",
    };
}
