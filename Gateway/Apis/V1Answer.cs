using System.Text.Json;
using Mesh.Gateway.Orders;

namespace Mesh.Gateway.Apis;

/// <summary>
/// A <c>/v1</c> answer that has run its course: its status and its JSON, kept as text so that an
/// Idempotency-Key can replay it byte for byte. Signed answers and business refusals (a duplicate
/// order, a refund over the remainder) are answers; malformed or unauthenticated requests are not.
/// </summary>
public sealed class V1Answer(int statusCode, string body, string contentType = "application/json", string? location = null) : IResult
{
    public const string ReplayedHeader = "Idempotent-Replayed";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public int StatusCode { get; } = statusCode;

    public string Body { get; } = body;

    public string ContentType { get; } = contentType;

    public string? Location { get; } = location;

    public bool Replayed { get; init; }

    public static V1Answer Signed(int statusCode, IEnumerable<KeyValuePair<string, string?>> fields, string? location = null) =>
        new(statusCode, JsonSerializer.Serialize(fields.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value), Json),
            location: location);

    /// <summary>This answer, marked as a repeat's (<see cref="ReplayedHeader"/>).</summary>
    public V1Answer AsReplay() => new(StatusCode, Body, ContentType, Location) { Replayed = true };

    public static V1Answer Of(int statusCode, object value) => new(statusCode, JsonSerializer.Serialize(value, Json));

    /// <summary>A refusal by the risk controls: a problem whose <c>code</c> is the rule's (<see cref="Risk.RiskCodes"/>).</summary>
    public static V1Answer RiskRefusal(string code, string detail) =>
        V1Problems.Answer(code, StatusCodes.Status422UnprocessableEntity, "Refused by risk controls", detail);

    public Task ExecuteAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCode;
        context.Response.ContentType = ContentType;
        if (Location is not null)
        {
            context.Response.Headers.Location = Location;
        }
        if (Replayed)
        {
            context.Response.Headers[ReplayedHeader] = "true";
        }
        return context.Response.WriteAsync(Body, context.RequestAborted);
    }

    /// <summary>An order's signed answer, with where the consumer pays it while it is open.</summary>
    public static List<KeyValuePair<string, string?>> OrderFields(Order order, string paymentPageBaseUrl)
    {
        var fields = OrderAnswers.V1Fields(order);
        if (order.Status == OrderStatus.Created)
        {
            fields.Add(new("payUrl", $"{paymentPageBaseUrl.TrimEnd('/')}/pay/orders/{order.MerchantId}/{order.OrderId}"));
        }
        return fields;
    }
}
