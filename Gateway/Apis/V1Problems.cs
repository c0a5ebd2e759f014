using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.Gateway.Apis;

/// <summary>
/// Every problem <c>/v1</c> answers (RFC 9457) has a stable <c>type</c>, <see cref="TypeBase"/> followed by its
/// <c>code</c>, and carries that <c>code</c> as an extension, so a merchant's code branches on it rather than on a
/// title. The codes are a contract: <c>docs/merchant-integration.md</c> lists each with its status and meaning, and
/// a code, once published, keeps its meaning.
/// </summary>
public static class V1Problems
{
    public const string TypeBase = "https://mesh.example/problems/";
    public const string ProblemContentType = "application/problem+json";

    public const string RequestInvalid = "request.invalid";
    public const string EnvelopeUnopened = "envelope.unopened";
    public const string IdempotencyKeyInvalid = "idempotency_key.invalid";
    public const string IdempotencyKeyReused = "idempotency_key.reused";
    public const string IdempotencyKeyInProgress = "idempotency_key.in_progress";
    public const string SignatureInvalid = "signature.invalid";
    public const string MerchantUnknown = "merchant.unknown";
    public const string OrderNotFound = "order.not_found";
    public const string OrderDuplicate = "order.duplicate";
    public const string OrderPaid = "order.paid";
    public const string OrderVoided = "order.voided";
    public const string OrderHeld = "order.held";
    public const string OrderNotPaid = "order.not_paid";
    public const string OrderRefunded = "order.refunded";
    public const string OrderPastCutoff = "order.past_cutoff";
    public const string PaymentInFlight = "payment.in_flight";
    public const string VoidInFlight = "void.in_flight";
    public const string VoidRefused = "void.refused";
    public const string RefundNotFound = "refund.not_found";
    public const string RefundOverRemainder = "refund.over_remainder";
    public const string RefundIdTaken = "refund.id_taken";
    public const string HoldNotAHold = "hold.not_a_hold";
    public const string HoldNotHeld = "hold.not_held";
    public const string HoldCaptured = "hold.captured";
    public const string HoldReleased = "hold.released";
    public const string CaptureInFlight = "capture.in_flight";
    public const string CaptureOverHeld = "capture.over_held";
    public const string CaptureDeclined = "capture.declined";
    public const string ReconciliationNotReady = "reconciliation.not_ready";
    public const string PlatformUnavailable = "platform.unavailable";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The problem type URI of <paramref name="code"/>.</summary>
    public static string TypeOf(string code) => TypeBase + code;

    /// <summary>A problem answered as it is made (not kept for an Idempotency-Key): malformed, unauthenticated, not found.</summary>
    public static IResult Result(string code, int statusCode, string title, string detail, IDictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?>(extensions ?? new Dictionary<string, object?>(), StringComparer.Ordinal) { ["code"] = code };
        return TypedResults.Problem(detail, statusCode: statusCode, title: title, type: TypeOf(code), extensions: all);
    }

    /// <summary>A 400 naming each field that is wrong and what it should be (<c>errors</c>), code <see cref="RequestInvalid"/>.</summary>
    public static IResult Validation(IDictionary<string, string[]> errors, string title) =>
        TypedResults.ValidationProblem(errors, title: title, type: TypeOf(RequestInvalid),
            extensions: new Dictionary<string, object?> { ["code"] = RequestInvalid });

    /// <summary>A business refusal that has run its course, kept as text so an Idempotency-Key replays it byte for byte.</summary>
    public static V1Answer Answer(string code, int statusCode, string title, string detail) =>
        new(statusCode, JsonSerializer.Serialize(new V1Problem(TypeOf(code), title, statusCode, detail, code), Json), ProblemContentType);
}

/// <summary>
/// A <c>/v1</c> problem (RFC 9457): <c>type</c> is <c>https://mesh.example/problems/</c> and the <c>code</c>;
/// a 400 also names each wrong field in <c>errors</c>.
/// </summary>
/// <param name="Type">The problem's stable type URI.</param>
/// <param name="Title">A short summary, for people.</param>
/// <param name="Status">The HTTP status.</param>
/// <param name="Detail">What went wrong with this request, for people.</param>
/// <param name="Code">The stable, machine-readable code (see the table in docs/merchant-integration.md).</param>
/// <param name="Errors">For code <c>request.invalid</c>: each wrong field and what it should be.</param>
/// <param name="MerchantStatus">For codes <c>merchant.*</c>: the merchant's state.</param>
public sealed record V1Problem(string Type, string Title, [property: JsonNumberHandling(JsonNumberHandling.Strict)] int Status, string? Detail, string Code,
    Dictionary<string, string[]>? Errors = null, string? MerchantStatus = null)
{
    /// <summary>The request's trace, when the platform gives one.</summary>
    public string? TraceId { get; init; }
}
