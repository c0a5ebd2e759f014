using System.Diagnostics;
using System.Text.Json;
using Mesh.ServiceDefaults.Database;
using Npgsql;
using NpgsqlTypes;

namespace Mesh.Gateway.Outbox;

/// <summary>
/// What a final state owes the rest of the platform, written in the same transaction as the state;
/// <see cref="Traceparent"/> is the payment's trace (W3C), so the ledger's posting and a later
/// notification attempt join it.
/// </summary>
public sealed record OutboxEvent(
    string Kind,
    string MerchantId,
    string OrderId,
    int OrderVersion,
    string Status,
    long AmountMinor,
    string Currency,
    string? ResponseCode,
    string? PanMasked,
    string Stan,
    string Transmission,
    string? Rrn,
    string? AuthCode,
    string? RefundId,
    DateTimeOffset At,
    string? IssuerId = null,
    string? Traceparent = null,
    NetPayRefundResult? NetPayRefund = null);

/// <summary>
/// What a NetPay refund's result carries besides the event (<see cref="OutboxEvent.NetPayRefund"/>):
/// its TransType, its Priv1, the ReturnURL it goes to and its ProcessDate (yyyyMMdd, China time).
/// </summary>
public sealed record NetPayRefundResult(string TransType, string Priv1, string ReturnUrl, string ProcessDate);

/// <summary>
/// Outbox rows: one for the merchant's notification, one for settlement, per final state. The
/// notification issue delivers the first kind, the settlement issue the second.
/// </summary>
public static class OutboxRows
{
    public const string Notification = "notification";
    public const string Settlement = "settlement";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Where <see cref="OutboxEvent.OrderVersion"/> is in a payload (a jsonb path), for a statement that writes the version it sets.</summary>
    public static readonly string[] OrderVersionPath = [Name(nameof(OutboxEvent.OrderVersion))];

    /// <summary>
    /// A jsonb expression of an order's own fields in a payload (merchant, order, version, amount, currency), from the row
    /// <paramref name="order"/> of a statement: with <c>||</c> after a payload, it fills them in per order.
    /// </summary>
    public static string OrderFieldsSql(string order) =>
        $"""
        jsonb_build_object('{Name(nameof(OutboxEvent.MerchantId))}', {order}.merchant_id, '{Name(nameof(OutboxEvent.OrderId))}', {order}.order_id,
            '{Name(nameof(OutboxEvent.OrderVersion))}', {order}.version, '{Name(nameof(OutboxEvent.AmountMinor))}', {order}.amount_minor,
            '{Name(nameof(OutboxEvent.Currency))}', {order}.currency)
        """;

    private static string Name(string property) => Json.PropertyNamingPolicy!.ConvertName(property);

    /// <summary>
    /// The rows of <paramref name="e"/>, one per topic of <paramref name="topics"/>; the notification is due at
    /// <paramref name="notifyAt"/>.
    /// </summary>
    public static IEnumerable<NpgsqlBatchCommand> For(OutboxEvent e, DateTimeOffset notifyAt, IReadOnlyCollection<string> topics)
    {
        var payload = Payload(e);
        foreach (var topic in topics)
        {
            yield return BatchSql.Command(
                "INSERT INTO outbox (topic, merchant_id, order_id, order_version, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                topic, e.MerchantId, e.OrderId, e.OrderVersion, Jsonb(payload), e.At,
                topic == Notification ? notifyAt : null);
        }
    }

    /// <summary><paramref name="e"/> as an outbox row's payload, carrying the current trace unless it has one.</summary>
    public static string Payload(OutboxEvent e) => JsonSerializer.Serialize(e with { Traceparent = e.Traceparent ?? Activity.Current?.Id }, Json);

    /// <summary>A payload as a jsonb parameter.</summary>
    public static NpgsqlParameter Jsonb(string payload) => new() { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = payload };
}
