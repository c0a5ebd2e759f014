using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Refunds;
using Mesh.Gateway.Risk;
using Mesh.Gateway.Signatures;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Apis;

/// <summary>
/// The merchant's JSON API: create an order, get one, list them by creation time with paging, close
/// one that is not paid, void one paid today, and refund. Requests are flat JSON objects (or query strings) of string
/// values, signed by the merchant; each body is a typed record (<see cref="CreateOrderRequest"/>, ...) that keeps its
/// fields as sent. Answers are signed by the platform the same way (<c>certId</c>, <c>signature</c>); their records
/// (<see cref="OrderAnswer"/>, ...) describe them in the OpenAPI document.
/// Creates, closes, voids and refunds honour <c>Idempotency-Key</c>.
/// </summary>
public static class OrdersApi
{
    public const int FieldCharsMax = V1Body.FieldCharsMax;

    public static RouteGroupBuilder MapOrdersApi(this RouteGroupBuilder group)
    {
        group.MapPost("/orders", CreateAsync).AddEndpointFilter(IdempotencyKeys.OrderCreateFilterAsync)
            .WithName("CreateOrder").WithTags("Orders").V1Post<CreateOrderRequest, OrderAnswer>(StatusCodes.Status201Created, StatusCodes.Status200OK)
            .V1Problems(400, 401, 403, 409, 422)
            .WithSummary("Creates an order the consumer then pays at payUrl")
            .WithDescription("Body: merId, orderId (1-32 of A-Z a-z 0-9 _ -), txnAmt (minor units), currencyCode (156 or CNY), txnDate (yyyyMMdd), "
                + "backUrl, frontUrl, gateId, reqReserved, notifyMode (realtime, deferred or redirect; blank: the merchant's), "
                + "payTimeout (yyyyMMddHHmmss UTC, the pay-by time; blank: the platform's default), captureMode (sale, the default, or hold: "
                + "the payment only holds the funds, to be captured or released later), signature; all strings. "
                + "201 with the signed order; the same order again is 200; a paid, pending or closed order number is 409; a failed one may be paid again.");
        group.MapGet("/orders/{orderId}", GetAsync).WithName("GetOrder").WithTags("Orders").V1Get<OrderAnswer>().V1Problems(400, 401, 403, 404)
            .WithSummary("An order, signed by the platform (query: merId, timestamp, signature)");
        group.MapGet("/orders", ListAsync).WithName("ListOrders").WithTags("Orders")
            .V1Get<OrderPage>("merId", "from", "to", "limit", "cursor", "timestamp", "signature").V1Problems(400, 401, 403)
            .WithSummary("Orders created in [from, to) (yyyyMMddHHmmss UTC), oldest first, in pages (query: merId, from, to, limit, cursor, timestamp, signature)")
            .WithDescription("The answer's ordersDigest is the SHA-256 hex of the orders' canonical strings joined by newlines; the signature covers it.");
        group.MapPost("/orders/{orderId}/close", CloseAsync).AddEndpointFilter(IdempotencyKeys.FilterAsync)
            .WithName("CloseOrder").WithTags("Orders").V1Post<OrderActionRequest, OrderAnswer>(StatusCodes.Status200OK)
            .V1Problems(400, 401, 403, 404, 409, 422)
            .WithSummary("Closes an order that is not paid: it can no longer be paid; closing it again changes nothing")
            .WithDescription("Body: merId, signature; orderId from the path is signed too. 200 with the signed order (status closed), the first time and "
                + "every time after; 409 when the order is paid or a payment of it is in flight; 404 when there is no such order.");
        group.MapPost("/orders/{orderId}/void", VoidAsync).AddEndpointFilter(IdempotencyKeys.FilterAsync)
            .WithName("VoidOrder").WithTags("Orders").V1Post<OrderActionRequest, OrderAnswer>(StatusCodes.Status200OK)
            .V1Problems(400, 401, 403, 404, 409, 422)
            .WithSummary("Voids (撤销) a paid order before the cut-off of the business day it was paid on: the whole amount goes back to the card, no fee")
            .WithDescription("Body: merId, signature; orderId from the path is signed too. 200 with the signed order (status voided), the first time and "
                + "every time after; 409 when the order is not paid, has refunds, or its business day has ended (refund it instead), or when the bank "
                + "refuses or has not yet answered the void; 404 when there is no such order.");
        group.MapPost("/orders/{orderId}/refunds", RefundAsync).AddEndpointFilter(IdempotencyKeys.FilterAsync)
            .WithName("RefundOrder").WithTags("Refunds").V1Post<RefundOrderRequest, RefundAnswer>(StatusCodes.Status200OK)
            .V1Problems(400, 401, 403, 404, 409, 422)
            .WithSummary("Refunds all or part of a paid order; several partial refunds may not exceed the amount paid")
            .WithDescription("Body: merId, refundId (the merchant's, idempotent), refundAmt (minor units), signature; orderId from the path is signed too.");
        group.MapGet("/orders/{orderId}/refunds/{refundId}", GetRefundAsync).WithName("GetRefund").WithTags("Refunds").V1Get<RefundAnswer>()
            .V1Problems(400, 401, 403, 404)
            .WithSummary("A refund, signed by the platform (query: merId, timestamp, signature)");
        return group;
    }

    private static async Task<IResult> CreateAsync(CreateOrderRequest create, HttpContext http, MerchantRequests requests, OrderBook orders,
        OrderAnswers answers, GateCodes gates, RiskStore risk, IOptions<GatewayOptions> options, TimeProvider time, CancellationToken ct)
    {
        if (create.Malformed is { } malformed)
        {
            return malformed;
        }
        var body = create.Fields;
        if (await requests.RefuseOnceAsync(http, body, ct) is { } refusal)
        {
            return refusal;
        }
        if (MerchantRequests.VerifiedMerchant(http) is { } verified && MerchantRequests.StatusRefusal(verified, Merchants.MerchantCall.NewBusiness) is { } notTaking)
        {
            return notTaking;
        }
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var orderId = body.GetValueOrDefault("orderId") ?? "";
        if (!OrderRules.V1OrderId().IsMatch(orderId))
        {
            problems["orderId"] = ["1 to 32 of A-Z a-z 0-9 _ -"];
        }
        var amount = Amount(body.GetValueOrDefault("txnAmt"));
        var currency = OrderRules.Currencies.GetValueOrDefault(body.GetValueOrDefault("currencyCode") ?? "");
        var txnDate = body.GetValueOrDefault("txnDate") ?? "";
        if (!NetPayOrderForm.IsDate(txnDate))
        {
            problems["txnDate"] = ["yyyyMMdd"];
        }
        var (payBy, payTimeoutProblem) = OrderLifetime.ReadPayTimeout(body.GetValueOrDefault("payTimeout"), time.GetUtcNow(), options.Value);
        if (payTimeoutProblem is not null)
        {
            problems["payTimeout"] = [payTimeoutProblem];
        }
        var captureMode = Blank(body.GetValueOrDefault("captureMode")) ?? CaptureMode.Sale;
        if (captureMode is not (CaptureMode.Sale or CaptureMode.Hold))
        {
            problems["captureMode"] = [$"blank or {CaptureMode.Sale} (the payment takes the funds), or {CaptureMode.Hold} (it only holds them)"];
        }
        var request = new OrderRequest(body["merId"]!, orderId, OrderProtocol.V1, amount ?? 0, currency ?? body.GetValueOrDefault("currencyCode") ?? "",
            txnDate, NetPayOrderForm.Purchase, null, Blank(body.GetValueOrDefault("backUrl")), Blank(body.GetValueOrDefault("frontUrl")),
            Blank(body.GetValueOrDefault("gateId")), Blank(body.GetValueOrDefault("reqReserved")), Blank(body.GetValueOrDefault("notifyMode")), payBy,
            captureMode);
        if (request.NotificationMode is { } mode && !Merchants.MerchantApplication.NotificationModes.Contains(mode))
        {
            problems["notifyMode"] = [$"blank (the merchant's), or one of {string.Join(", ", Merchants.MerchantApplication.NotificationModes)}"];
        }
        OrderRules.Check(request, options.Value, await gates.EnabledAsync(ct), problems, netPayNames: false);
        if (MerchantRequests.VerifiedMerchant(http) is { } merchant)
        {
            OrderRules.CheckAddresses(request, merchant, problems, netPayNames: false);
        }
        // After the shared checks: an unreadable amount is named as such, not as out of range.
        if (amount is null)
        {
            problems["txnAmt"] = ["minor units, 1 to 12 digits"];
        }
        if (problems.Count > 0)
        {
            return V1Problems.Validation(problems, "The order has errors");
        }
        if (await RiskRefusal.AtCreationAsync(request, risk, ct) is { } overLimit)
        {
            return V1Answer.RiskRefusal(overLimit.Code, overLimit.Detail);
        }
        var (opening, order) = await orders.OpenAsync(request, ct);
        if (IdempotencyKeys.IsOrdersOwnKey(http.Request, orderId) && opening is OrderBook.Opening.AlreadyOpen or OrderBook.Opening.Duplicate)
        {
            // A repeat under the order's own key: the order as it now is, when it is the same request. (A failed order is paid
            // again, as without the key: its first create was answered before the consumer could fail to pay it.)
            return order.SameRequest(request)
                ? V1Answer.Signed(StatusCodes.Status201Created, await answers.V1Async(V1Answer.OrderFields(order, options.Value.PaymentPageBaseUrl), ct),
                    $"/v1/orders/{order.OrderId}").AsReplay()
                : V1Problems.Answer(V1Problems.IdempotencyKeyReused, StatusCodes.Status422UnprocessableEntity, "Idempotency key reused",
                    $"{IdempotencyKeys.Header} {http.Request.Headers[IdempotencyKeys.Header]} was used with other parameters; a key is for one request");
        }
        if (opening == OrderBook.Opening.Duplicate)
        {
            return V1Problems.Answer(V1Problems.OrderDuplicate, StatusCodes.Status409Conflict, "Duplicate order",
                $"Order {order.OrderId} is already {order.Status}; only a failed order number may be created again");
        }
        var signed = await answers.V1Async(V1Answer.OrderFields(order, options.Value.PaymentPageBaseUrl), ct);
        return opening == OrderBook.Opening.AlreadyOpen
            ? V1Answer.Signed(StatusCodes.Status200OK, signed)
            : V1Answer.Signed(StatusCodes.Status201Created, signed, $"/v1/orders/{order.OrderId}");
    }

    private static async Task<IResult> GetAsync(string orderId, HttpRequest http, MerchantRequests requests, OrderBook orders, OrderAnswers answers,
        IOptions<GatewayOptions> options, CancellationToken ct)
    {
        var fields = Query(http, "merId", "timestamp", "signature");
        if (fields is null)
        {
            return MerchantRequests.Validation("query", "merId, timestamp and signature, each once");
        }
        fields["orderId"] = orderId;
        if (await requests.RefuseAsync(fields, query: true, ct) is { } refusal)
        {
            return refusal;
        }
        if (!OrderRules.V1OrderId().IsMatch(orderId) || await orders.FindAsync(fields["merId"]!, orderId, ct) is not { } order)
        {
            return V1Problems.Result(V1Problems.OrderNotFound, StatusCodes.Status404NotFound, "No such order", $"No order {orderId}");
        }
        return V1Answer.Signed(StatusCodes.Status200OK, await answers.V1Async(V1Answer.OrderFields(order, options.Value.PaymentPageBaseUrl), ct));
    }

    private static async Task<IResult> ListAsync(HttpRequest http, MerchantRequests requests, OrderBook orders, OrderAnswers answers,
        CancellationToken ct)
    {
        var fields = Query(http, "merId", "from", "to", "limit", "cursor", "timestamp", "signature");
        if (fields is null)
        {
            return MerchantRequests.Validation("query", "merId, from, to, limit, cursor, timestamp and signature, each at most once");
        }
        if (await requests.RefuseAsync(fields, query: true, ct) is { } refusal)
        {
            return refusal;
        }
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var from = Time(fields.GetValueOrDefault("from"));
        var to = Time(fields.GetValueOrDefault("to"));
        if (from is null)
        {
            problems["from"] = ["yyyyMMddHHmmss (UTC)"];
        }
        if (to is null || to <= from)
        {
            problems["to"] = ["yyyyMMddHHmmss (UTC), after from"];
        }
        var limit = 50;
        if (fields.GetValueOrDefault("limit") is { } limitText && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit)
            || limit is < 1 or > OrderBook.ListLimitMax))
        {
            problems["limit"] = [$"1 to {OrderBook.ListLimitMax}"];
        }
        var cursor = Cursor(fields.GetValueOrDefault("cursor"));
        if (fields.GetValueOrDefault("cursor") is { } && cursor is null)
        {
            problems["cursor"] = ["the nextCursor of the previous page"];
        }
        if (problems.Count > 0)
        {
            return V1Problems.Validation(problems, "The query has errors");
        }
        var page = await orders.ListAsync(fields["merId"]!, from!.Value, to!.Value, cursor, limit, ct);
        var entries = page.Select(o => OrderAnswers.V1Fields(o).Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value)).ToList();
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', entries.Select(e => CanonicalSignature.CanonicalString(e))))));
        var next = page.Count == limit ? $"{page[^1].CreatedAt.UtcDateTime.ToString("yyyyMMddHHmmssffffff", CultureInfo.InvariantCulture)}.{page[^1].OrderId}" : null;
        var signed = await answers.V1Async(
        [
            new("merId", fields["merId"]), new("from", fields["from"]), new("to", fields["to"]), new("count", page.Count.ToString(CultureInfo.InvariantCulture)),
            new("nextCursor", next), new("ordersDigest", digest),
        ], ct);
        var answer = signed.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => (object?)f.Value);
        answer["orders"] = entries;
        return V1Answer.Of(StatusCodes.Status200OK, answer);
    }

    private static async Task<IResult> CloseAsync(string orderId, OrderActionRequest body, HttpContext http, MerchantRequests requests,
        OrderClosing closing, OrderAnswers answers, IOptions<GatewayOptions> options, CancellationToken ct)
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
                "The close has errors");
        }
        var (closed, order) = await closing.CloseAsync(body.MerId!, orderId, ct);
        return closed switch
        {
            OrderLifetime.Closing.NoSuchOrder => V1Problems.Answer(V1Problems.OrderNotFound, StatusCodes.Status404NotFound, "No such order", $"No order {orderId}"),
            OrderLifetime.Closing.Paid => V1Problems.Answer(V1Problems.OrderPaid, StatusCodes.Status409Conflict, "The order is paid",
                $"Order {orderId} is paid and cannot be closed; refund it instead"),
            OrderLifetime.Closing.Voided => V1Problems.Answer(V1Problems.OrderVoided, StatusCodes.Status409Conflict, "The order is voided",
                $"Order {orderId} was paid and then voided: it cannot be closed"),
            OrderLifetime.Closing.Held => V1Problems.Answer(V1Problems.OrderHeld, StatusCodes.Status409Conflict, "The order's funds are held",
                $"Order {orderId} holds the consumer's funds: capture or release the hold instead"),
            OrderLifetime.Closing.PaymentInFlight => V1Problems.Answer(V1Problems.PaymentInFlight, StatusCodes.Status409Conflict, "A payment is in flight",
                $"A payment of order {orderId} is waiting for the bank's answer; query the order, and close it if that payment fails"),
            _ => V1Answer.Signed(StatusCodes.Status200OK, await answers.V1Async(V1Answer.OrderFields(order!, options.Value.PaymentPageBaseUrl), ct)),
        };
    }

    private static async Task<IResult> VoidAsync(string orderId, OrderActionRequest body, HttpContext http, MerchantRequests requests,
        OrderVoiding voiding, OrderAnswers answers, IOptions<GatewayOptions> options, CancellationToken ct)
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
                "The void has errors");
        }
        var (voided, outcome, order) = await voiding.VoidAsync(body.MerId!, orderId, ct);
        return (voided, outcome) switch
        {
            (OrderLifetime.Voiding.NoSuchOrder, _) => V1Problems.Answer(V1Problems.OrderNotFound, StatusCodes.Status404NotFound, "No such order", $"No order {orderId}"),
            (OrderLifetime.Voiding.NotPaid, _) => V1Problems.Answer(V1Problems.OrderNotPaid, StatusCodes.Status409Conflict, "The order is not paid",
                $"Order {orderId} is {order!.Status}: only a paid order can be voided"),
            (OrderLifetime.Voiding.Refunded, _) => V1Problems.Answer(V1Problems.OrderRefunded, StatusCodes.Status409Conflict, "The order has refunds",
                $"Order {orderId} is already refunded in part or in full and cannot be voided; refund what is left instead"),
            (OrderLifetime.Voiding.PastCutoff, _) => V1Problems.Answer(V1Problems.OrderPastCutoff, StatusCodes.Status409Conflict, "The business day has ended",
                $"Order {orderId} was paid on a business day that has ended (its cut-off has passed) and cannot be voided; a refund is needed instead"),
            (_, OrderVoiding.Outcome.InFlight) => V1Problems.Answer(V1Problems.VoidInFlight, StatusCodes.Status409Conflict, "A void is in flight",
                $"The void of order {orderId} is waiting for the bank's answer; query the order"),
            (_, OrderVoiding.Outcome.Refused) => V1Problems.Answer(V1Problems.VoidRefused, StatusCodes.Status409Conflict, "The bank refused the void",
                $"The bank refused to void order {orderId}: it stays paid; refund it instead"),
            _ => V1Answer.Signed(StatusCodes.Status200OK, await answers.V1Async(V1Answer.OrderFields(order!, options.Value.PaymentPageBaseUrl), ct)),
        };
    }

    private static async Task<IResult> RefundAsync(string orderId, RefundOrderRequest body, HttpContext http, MerchantRequests requests,
        RefundDesk desk, OrderAnswers answers, CancellationToken ct)
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
        var refundId = body.RefundId ?? "";
        if (!OrderRules.V1OrderId().IsMatch(refundId))
        {
            problems["refundId"] = ["1 to 32 of A-Z a-z 0-9 _ -"];
        }
        if (Amount(body.RefundAmt) is not { } amount)
        {
            problems["refundAmt"] = ["minor units, 1 to 12 digits, above 0"];
            amount = 0;
        }
        if (!OrderRules.V1OrderId().IsMatch(orderId))
        {
            problems["orderId"] = ["1 to 32 of A-Z a-z 0-9 _ -"];
        }
        if (problems.Count > 0)
        {
            return V1Problems.Validation(problems, "The refund has errors");
        }
        var (why, refund, refundable) = await desk.RefundAsync(body.MerId!, orderId, refundId, amount, ct);
        return why switch
        {
            RefundDesk.Refusal.NoSuchOrder => V1Problems.Answer(V1Problems.OrderNotFound, StatusCodes.Status404NotFound, "No such order", $"No order {orderId}"),
            RefundDesk.Refusal.NotPaid => V1Problems.Answer(V1Problems.OrderNotPaid, StatusCodes.Status409Conflict, "The order is not paid", $"Order {orderId} has nothing to refund"),
            RefundDesk.Refusal.OverRemainder => V1Problems.Answer(V1Problems.RefundOverRemainder, StatusCodes.Status409Conflict, "The refund exceeds what is left",
                $"At most {refundable} minor units of order {orderId} can still be refunded"),
            RefundDesk.Refusal.RefundIdTaken => V1Problems.Answer(V1Problems.RefundIdTaken, StatusCodes.Status409Conflict, "The refund id is taken",
                $"Refund {refundId} was made for another order or amount"),
            _ => V1Answer.Signed(StatusCodes.Status200OK, await answers.V1Async(RefundFieldsOf(refund!), ct)),
        };
    }

    private static async Task<IResult> GetRefundAsync(string orderId, string refundId, HttpRequest http, MerchantRequests requests, RefundDesk desk,
        OrderAnswers answers, CancellationToken ct)
    {
        var fields = Query(http, "merId", "timestamp", "signature");
        if (fields is null)
        {
            return MerchantRequests.Validation("query", "merId, timestamp and signature, each once");
        }
        fields["orderId"] = orderId;
        fields["refundId"] = refundId;
        if (await requests.RefuseAsync(fields, query: true, ct) is { } refusal)
        {
            return refusal;
        }
        if (await desk.FindAsync(fields["merId"]!, refundId, ct) is not { } refund || refund.OrderId != orderId)
        {
            return V1Problems.Result(V1Problems.RefundNotFound, StatusCodes.Status404NotFound, "No such refund", $"No refund {refundId} of order {orderId}");
        }
        return V1Answer.Signed(StatusCodes.Status200OK, await answers.V1Async(RefundFieldsOf(refund), ct));
    }

    private static List<KeyValuePair<string, string?>> RefundFieldsOf(Refund refund) =>
    [
        new("merId", refund.MerchantId), new("orderId", refund.OrderId), new("refundId", refund.RefundId), new("refundAmt", OrderAnswers.Minor(refund.AmountMinor)),
        new("currencyCode", refund.Currency), new("status", refund.Status), new("respCode", refund.ResponseCode),
        new("createdAt", OrderAnswers.Timestamp(refund.CreatedAt)), new("answeredAt", refund.AnsweredAt is { } at ? OrderAnswers.Timestamp(at) : null),
    ];

    /// <summary>The query's named parameters, each at most once and short; null when not.</summary>
    public static Dictionary<string, string?>? Query(HttpRequest http, params string[] names)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, values) in http.Query)
        {
            if (!names.Contains(name) || values.Count != 1 || values[0] is not { Length: <= FieldCharsMax } value)
            {
                return null;
            }
            fields[name] = value;
        }
        return fields;
    }

    internal static long? Amount(string? text) =>
        text is { Length: >= 1 and <= 12 } && text.All(char.IsAsciiDigit) && long.Parse(text, CultureInfo.InvariantCulture) is > 0 and var amount
            ? amount
            : null;

    private static DateTimeOffset? Time(string? text) =>
        text is { Length: 14 } && DateTime.TryParseExact(text, "yyyyMMddHHmmss", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
            ? new DateTimeOffset(at, TimeSpan.Zero)
            : null;

    private static (DateTimeOffset CreatedAt, string OrderId)? Cursor(string? text)
    {
        var dot = text?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        return dot == 20 && DateTime.TryParseExact(text![..20], "yyyyMMddHHmmssffffff", CultureInfo.InvariantCulture,
                   DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at) && OrderRules.V1OrderId().IsMatch(text[21..])
            ? (new DateTimeOffset(at, TimeSpan.Zero), text[21..])
            : null;
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
