using Mesh.Gateway.Holds;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Apis;

/// <summary>
/// A held order's capture and release (<see cref="HoldDesk"/>): signed by the merchant like every <c>/v1</c> request, both honour
/// <c>Idempotency-Key</c>, and both answer the signed order as it then is (<c>heldAmt</c>, <c>capturedAmt</c>, <c>status</c>).
/// </summary>
public static class HoldsApi
{
    public static RouteGroupBuilder MapHoldsApi(this RouteGroupBuilder group)
    {
        group.MapPost("/orders/{orderId}/capture", CaptureAsync).AddEndpointFilter(IdempotencyKeys.FilterAsync)
            .WithName("CaptureOrder").WithTags("Holds").V1Post<CaptureOrderRequest, OrderAnswer>(StatusCodes.Status200OK)
            .V1Problems(400, 401, 403, 404, 409, 422)
            .WithSummary("Captures a held order once, for at most the amount held: that amount is the sale; the rest of the hold goes back to the card")
            .WithDescription("Body: merId, captureAmt (minor units, 1 to the amount held), signature; orderId from the path is signed too. 200 with the "
                + "signed order (status paid, capturedAmt); 409 when the order is not a standing hold (captured, released, expired, not yet authorized, "
                + "or a capture of it in flight), when captureAmt exceeds the hold, or when the bank declines the capture (the hold stands); "
                + "404 when there is no such order.");
        group.MapPost("/orders/{orderId}/release", ReleaseAsync).AddEndpointFilter(IdempotencyKeys.FilterAsync)
            .WithName("ReleaseOrder").WithTags("Holds").V1Post<OrderActionRequest, OrderAnswer>(StatusCodes.Status200OK)
            .V1Problems(400, 401, 403, 404, 409, 422)
            .WithSummary("Releases a held order: nothing is charged and the whole hold goes back to the card; releasing it again changes nothing")
            .WithDescription("Body: merId, signature; orderId from the path is signed too. 200 with the signed order (status released), the first "
                + "time and every time after; 409 when the order is captured, expired, not a standing hold, or a capture of it is in flight; "
                + "404 when there is no such order.");
        return group;
    }

    private static async Task<IResult> CaptureAsync(string orderId, CaptureOrderRequest body, HttpContext http, MerchantRequests requests,
        HoldDesk desk, OrderAnswers answers, IOptions<GatewayOptions> options, CancellationToken ct)
    {
        if (body.Malformed is { } malformed)
        {
            return malformed;
        }
        var fields = body.SignedFields(("orderId", orderId));
        if (await requests.RefuseOnceAsync(http, fields, ct) is { } refusal)
        {
            return refusal;
        }
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (OrdersApi.Amount(body.CaptureAmt) is not { } amount)
        {
            problems["captureAmt"] = ["minor units, 1 to 12 digits, above 0"];
            amount = 0;
        }
        if (!OrderRules.V1OrderId().IsMatch(orderId))
        {
            problems["orderId"] = ["1 to 32 of A-Z a-z 0-9 _ -"];
        }
        if (problems.Count > 0)
        {
            return V1Problems.Validation(problems, "The capture has errors");
        }
        var (refused, outcome, order) = await desk.CaptureAsync(body.MerId!, orderId, amount, ct);
        return (refused, outcome) switch
        {
            (HoldRules.Refusal.None, HoldDesk.Outcome.Captured) => await SignedAsync(order!, answers, options, ct),
            (HoldRules.Refusal.None, HoldDesk.Outcome.InFlight) => V1Problems.Answer(V1Problems.CaptureInFlight, StatusCodes.Status409Conflict, "A capture is in flight",
                $"The capture of order {orderId} is waiting for the bank's answer; query the order"),
            (HoldRules.Refusal.None, _) => V1Problems.Answer(V1Problems.CaptureDeclined, StatusCodes.Status409Conflict, "The bank declined the capture",
                $"The bank declined the capture of order {orderId} (response {order!.ResponseCode ?? "none"}): the hold stands"),
            (HoldRules.Refusal.OverHeld, _) => V1Problems.Answer(V1Problems.CaptureOverHeld, StatusCodes.Status409Conflict, "The capture exceeds the hold",
                $"At most {order!.AmountMinor} minor units of order {orderId} are held"),
            _ => Refusal(refused, orderId, order),
        };
    }

    private static async Task<IResult> ReleaseAsync(string orderId, OrderActionRequest body, HttpContext http, MerchantRequests requests,
        HoldDesk desk, OrderAnswers answers, IOptions<GatewayOptions> options, CancellationToken ct)
    {
        if (body.Malformed is { } malformed)
        {
            return malformed;
        }
        var fields = body.SignedFields(("orderId", orderId));
        if (await requests.RefuseOnceAsync(http, fields, ct) is { } refusal)
        {
            return refusal;
        }
        if (!OrderRules.V1OrderId().IsMatch(orderId))
        {
            return V1Problems.Validation(new Dictionary<string, string[]> { ["orderId"] = ["1 to 32 of A-Z a-z 0-9 _ -"] },
                "The release has errors");
        }
        var (refused, _, order) = await desk.ReleaseAsync(body.MerId!, orderId, HoldReason.Merchant, ct);
        return refused == HoldRules.Refusal.None ? await SignedAsync(order!, answers, options, ct) : Refusal(refused, orderId, order);
    }

    private static async Task<IResult> SignedAsync(Order order, OrderAnswers answers, IOptions<GatewayOptions> options, CancellationToken ct) =>
        V1Answer.Signed(StatusCodes.Status200OK, await answers.V1Async(V1Answer.OrderFields(order, options.Value.PaymentPageBaseUrl), ct));

    private static V1Answer Refusal(HoldRules.Refusal refused, string orderId, Order? order) => refused switch
    {
        HoldRules.Refusal.NoSuchOrder => V1Problems.Answer(V1Problems.OrderNotFound, StatusCodes.Status404NotFound, "No such order", $"No order {orderId}"),
        HoldRules.Refusal.NotAHold => V1Problems.Answer(V1Problems.HoldNotAHold, StatusCodes.Status409Conflict, "The order is not a hold",
            $"Order {orderId} was created with captureMode sale: its payment took the funds; refund or void it instead"),
        HoldRules.Refusal.CaptureInFlight => V1Problems.Answer(V1Problems.CaptureInFlight, StatusCodes.Status409Conflict, "A capture is in flight",
            $"A capture of order {orderId} is waiting for the bank's answer; query the order"),
        HoldRules.Refusal.AlreadyCaptured => V1Problems.Answer(V1Problems.HoldCaptured, StatusCodes.Status409Conflict, "The hold is already captured",
            $"Order {orderId} was captured ({order!.PaidMinor} minor units) and is {order.Status}: a hold is captured once"),
        HoldRules.Refusal.AlreadyReleased => V1Problems.Answer(V1Problems.HoldReleased, StatusCodes.Status409Conflict, "The hold is released",
            $"The hold of order {orderId} is {order!.Status}: nothing is held any more"),
        _ => V1Problems.Answer(V1Problems.HoldNotHeld, StatusCodes.Status409Conflict, "Nothing is held",
            $"Order {orderId} is {order?.Status}: its funds are not held (it has not been authorized)"),
    };
}
