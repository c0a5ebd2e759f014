using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Notifications;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Payments;
using Mesh.Gateway.Risk;
using Mesh.Gateway.Signatures;
using Mesh.Iso8583.Messages;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Pages;

/// <summary>
/// The consumer's side, under <c>/pay</c> (HTTPS only): the NetPay form door <c>/pay/TransGet</c>,
/// the way in for <c>/v1</c> orders, the payment page and its result. A form that cannot be read,
/// a forged CSRF token or an expired page is refused and changes nothing.
/// </summary>
public static class PaymentPageApi
{
    public const string CsrfCookie = "__Host-mesh-csrf";
    public const int FormBytesMax = 16 * 1024;

    public static RouteGroupBuilder MapPaymentPages(this RouteGroupBuilder group)
    {
        group.MapPost("/TransGet", TransGetAsync).WithName("NetPayTransGet").WithTags("NetPay")
            .WithSummary("NetPay's purchase form: the merchant's page posts the signed order here and the consumer lands on the payment page");
        group.MapGet("/orders/{merchantId}/{orderId}", StartAsync).WithName("StartPayment").WithTags("Payment page")
            .WithSummary("Where a /v1 order's payUrl sends the consumer: a new payment page for the order");
        group.MapGet("/s/{sessionId}", ShowAsync).ExcludeFromDescription();
        group.MapPost("/s/{sessionId}", SubmitAsync).ExcludeFromDescription();
        group.MapPost("/s/{sessionId}/code", SubmitCodeAsync).ExcludeFromDescription();
        group.MapGet("/s/{sessionId}/result", ShowResultAsync).ExcludeFromDescription();
        group.MapGet("/assets/{name}", (string name) => PageAssets.Files.TryGetValue(name, out var file)
            ? Results.Bytes(file.Bytes, file.ContentType)
            : Results.NotFound()).ExcludeFromDescription();
        return group;
    }

    private static async Task<IResult> TransGetAsync(HttpContext context, MerchantRegistry merchants, OrderBook orders, PaymentSessions sessions,
        GateCodes gates, RiskStore risk, IOptions<GatewayOptions> options, TimeProvider time, CancellationToken ct)
    {
        if (await ReadFormAsync(context) is not { } form)
        {
            return Problem(context, StatusCodes.Status400BadRequest, "The form could not be read",
                new Words("an application/x-www-form-urlencoded form of at most {0} bytes", FormBytesMax));
        }
        var (request, problems) = NetPayOrderForm.Read(form);
        if (problems.Count > 0)
        {
            return ValidationProblem(context, problems);
        }
        if (await merchants.FindWithKeyAsync(request!.Order.MerchantId, ct) is not ({ } merchant, var keys))
        {
            return Problem(context, StatusCodes.Status403Forbidden, "The merchant is not accepted",
                new Words("MerId {0} is not an onboarded merchant", request.Order.MerchantId));
        }
        if (!keys.AnyVerifies(time.GetUtcNow(), (spki, algorithm) => algorithm == MerchantKey.Rsa && NetPaySignature.IsValid(spki, request.SignedText, request.ChkValue)))
        {
            return Problem(context, StatusCodes.Status403Forbidden, "The signature does not verify",
                "ChkValue is the RSA SHA-1 signature of MerId+OrdId+TransAmt+CuryId+TransDate+TransType(+Priv1) by the merchant's key");
        }
        if (MerchantLifecycle.Refuses(merchant.State, MerchantCall.NewBusiness) is { } notTaking)
        {
            return NotTaking(context, merchant.State, notTaking);
        }
        OrderRules.Check(request.Order, options.Value, await gates.EnabledAsync(ct), problems, netPayNames: true);
        OrderRules.CheckAddresses(request.Order, merchant, problems, netPayNames: true);
        if (problems.Count > 0)
        {
            return ValidationProblem(context, problems);
        }
        if (await RiskRefusal.AtCreationAsync(request.Order, risk, ct) is { } overLimit)
        {
            return BrowserErrorPages.WantsHtml(context.Request)
                ? PaymentPages.Error(StatusCodes.Status422UnprocessableEntity, "Refused by risk controls",
                    new Words("{0} (code {1})", new Words(RiskCodes.ConsumerMessage(overLimit.Code)), overLimit.Code))
                : TypedResults.Problem(overLimit.Detail, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Refused by risk controls",
                    extensions: new Dictionary<string, object?> { ["code"] = overLimit.Code });
        }
        return await OpenAndShowAsync(context, request.Order, orders, sessions, time, ct);
    }

    private static async Task<IResult> OpenAndShowAsync(HttpContext context, OrderRequest request, OrderBook orders, PaymentSessions sessions,
        TimeProvider time, CancellationToken ct)
    {
        var (opening, order) = await orders.OpenAsync(request, ct);
        if (opening == OrderBook.Opening.Duplicate)
        {
            return Problem(context, StatusCodes.Status409Conflict, "Duplicate order",
                new Words("Order {0} is already {1}; only a failed order number may be paid again", order.OrderId, Words.Label("Status", order.Status)));
        }
        if (OrderLifetime.HasEnded(order, time.GetUtcNow()))
        {
            return Problem(context, StatusCodes.Status410Gone, ClosedTitle, ClosedDetail);
        }
        return Results.Redirect($"/pay/s/{sessions.Seal(sessions.Start(order))}", permanent: false, preserveMethod: false);
    }

    /// <summary>A new payment page for a /v1 order, answered at once (no redirect): its form posts to the session's own address.</summary>
    private static async Task<IResult> StartAsync(HttpContext context, string merchantId, string orderId, OrderBook orders, PaymentSessions sessions,
        PageForms forms, OrderAnswers answers, MerchantRegistry merchants, TimeProvider time, CancellationToken ct)
    {
        if (!OrderRules.MerchantId().IsMatch(merchantId) || !OrderRules.V1OrderId().IsMatch(orderId)
            || await orders.FindForPageAsync(merchantId, orderId, ct) is not ({ } order, var merchantName))
        {
            return PaymentPages.Error(StatusCodes.Status404NotFound, "No such order", "The payment link is not valid.");
        }
        if (order.Status != OrderStatus.Created || OrderLifetime.HasEnded(order, time.GetUtcNow()))
        {
            return await ResultAsync(order, merchantName, null, answers, time, ct);
        }
        if (await NotPayingAsync(merchants, merchantId, ct) is { } notPaying)
        {
            return notPaying;
        }
        return await ShowPageAsync(context, sessions.Start(order), merchantName, forms, ct);
    }

    private static async Task<IResult> ShowAsync(HttpContext context, string sessionId, OrderBook orders, PaymentSessions sessions,
        PageForms forms, OrderAnswers answers, MerchantRegistry merchants, TimeProvider time, CancellationToken ct)
    {
        if (sessions.Open(sessionId) is not { } session || await orders.FindForPageAsync(session.MerchantId, session.OrderId, ct) is not ({ } order, var merchantName))
        {
            return NoSuchPage();
        }
        if (order.Status != OrderStatus.Created || order.Attempts != session.OrderAttempt)
        {
            return await ResultAsync(order, merchantName, sessionId, answers, time, ct);
        }
        if (sessions.IsExpired(session))
        {
            return Expired();
        }
        if (OrderLifetime.HasEnded(order, time.GetUtcNow()))
        {
            return Closed();
        }
        if (await NotPayingAsync(merchants, session.MerchantId, ct) is { } notPaying)
        {
            return notPaying;
        }
        return await ShowPageAsync(context, session.After(order.WrongPins), merchantName, forms, ct);
    }

    /// <summary>The payment page of a session (or, while its bank waits for the cardholder's one-time code, the code's page), with its CSRF cookie.</summary>
    private static async Task<IResult> ShowPageAsync(HttpContext context, PaymentSession session, string merchantName, PageForms forms, CancellationToken ct)
    {
        context.Response.Cookies.Append(CsrfCookie, session.CsrfToken, new CookieOptions
        {
            Secure = true,
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            Expires = session.ExpiresAt,
        });
        return await forms.PageAsync(session, merchantName, null, StatusCodes.Status200OK, ct);
    }

    /// <summary>
    /// The payment form's submit, answered with the result itself (no redirect to a page that would
    /// read back what the payment just wrote). The session is the token in the address; the order's
    /// row decides whether it can still be paid.
    /// </summary>
    private static async Task<IResult> SubmitAsync(HttpContext context, string sessionId, OrderBook orders, PaymentSessions sessions,
        GateCodes gates, CardPayments payments, CardProducts products, PageForms forms, ResultDelivery delivery, OrderAnswers answers,
        MerchantRegistry merchants, TimeProvider time, CancellationToken ct)
    {
        var submitted = await SubmittedAsync(context, sessionId, sessions, merchants, ct);
        if (submitted.Refused is { } refused)
        {
            return refused;
        }
        var (session, form) = (submitted.Session!, submitted.Form!);
        Words? Refuse(Words message) => message;
        var error =
            !Pan.TryParse(form["pan"].ToString().Replace(" ", "", StringComparison.Ordinal), out var pan) ? Refuse("Please check the card number.")
            : ExpiryYyMm(form["expiry"]) is null ? Refuse("The expiry date is MM/YY, as printed on the card.")
            : string.IsNullOrEmpty(session.GateId) && !await gates.IsEnabledAsync(form["gateId"], ct) ? Refuse("Please choose your bank.")
            : null;
        PaymentOutcome? outcome = null;
        if (error is null && await products.IsCreditAsync(pan, ct))
        {
            // A credit card: expiry and CVV2, no PIN. Both are checked here first, so bad input sends nothing.
            var cvv2 = form["cvv2"].ToString();
            var expiry = ExpiryYyMm(form["expiry"])!;
            // A hold (pre-authorization) goes to the bank as a 0100 with the PIN; a credit card's card-not-present purchase is a sale.
            error = session.Hold ? "This order reserves funds before the merchant charges them: please pay with a debit card and its PIN."
                : cvv2.Length != 3 || !cvv2.All(char.IsAsciiDigit) ? "The CVV2 is the 3 digits printed on the back of the card."
                : HasExpired(expiry, time.GetUtcNow()) ? "The card has expired: please check the expiry date, or use another card."
                : null;
            outcome = error is null ? await payments.PayCreditAsync(session, pan, expiry, cvv2, ConsumerNetwork(context), ct) : null;
        }
        else if (error is null)
        {
            var pin = EncryptedPin.Read(form["pinScheme"], form["pinCiphertext"], form["pinEphemeralKey"], form["pinIv"], session.PinNonce) is { } read
                ? read with { TransportCheckValue = session.PinKeyCheckValue }
                : null;
            error = pin is null ? "The PIN could not be read. Please enter it again." : null;
            outcome = pin is null ? null : await payments.PayAsync(session, pan, ExpiryYyMm(form["expiry"])!, pin, ConsumerNetwork(context), ct);
        }
        return await AnsweredAsync(session, sessionId, outcome, error, orders, payments, forms, delivery, answers, time, ct);
    }

    /// <summary>
    /// A submitted form of the payment page, or why it is refused with nothing sent: no such page, a form that cannot be
    /// read, a CSRF token that is not this page's (in the form and its cookie), a page past its time, or a merchant that takes no payments now.
    /// </summary>
    private static async Task<(PaymentSession? Session, IFormCollection? Form, IResult? Refused)> SubmittedAsync(HttpContext context, string sessionId,
        PaymentSessions sessions, MerchantRegistry merchants, CancellationToken ct)
    {
        if (sessions.Open(sessionId) is not { } session)
        {
            return (null, null, NoSuchPage());
        }
        if (await ReadFormAsync(context) is not { } form)
        {
            return (null, null, PaymentPages.Error(StatusCodes.Status400BadRequest, "The form could not be read", "Please go back and try again."));
        }
        if (!SameToken(session.CsrfToken, form["csrf"]) || !SameToken(session.CsrfToken, context.Request.Cookies[CsrfCookie]))
        {
            return (null, null, PaymentPages.Error(StatusCodes.Status403Forbidden, "The form was not sent from this payment page",
                "For your safety the payment was not made. Please open the payment page again."));
        }
        if (sessions.IsExpired(session))
        {
            return (null, null, Expired());
        }
        return await NotPayingAsync(merchants, session.MerchantId, ct) is { } notPaying ? (null, null, notPaying) : (session, form, null);
    }

    /// <summary>
    /// The page's refusal while the order's merchant takes no payments (suspended, offboarding, closed), with the code the merchant's
    /// API answers; null when it does. An order made before a suspension is paid again once the merchant is reactivated, if it has not expired.
    /// </summary>
    private static async Task<IResult?> NotPayingAsync(MerchantRegistry merchants, string merchantId, CancellationToken ct) =>
        await merchants.FindAsync(merchantId, ct) is { } merchant && MerchantLifecycle.Refuses(merchant.State, MerchantCall.NewBusiness) is { } code
            ? PaymentPages.Error(StatusCodes.Status403Forbidden, new Words("{0} is not taking payments", merchant.Name),
                new Words("Nothing was charged: {0} (code {1}).", new Words(MerchantLifecycle.Why(merchant.State)), code))
            : null;

    /// <summary>TransGet's refusal of a merchant that takes no new orders: the code as a problem's <c>code</c>, or on the page.</summary>
    private static IResult NotTaking(HttpContext context, MerchantStatus state, string code) =>
        BrowserErrorPages.WantsHtml(context.Request)
            ? PaymentPages.Error(StatusCodes.Status403Forbidden, new Words("The merchant is {0}", new Words(MerchantLifecycle.Text(state))),
                new Words("{0} (code {1})", new Words(MerchantLifecycle.Why(state)), code))
            : TypedResults.Problem(MerchantLifecycle.Why(state), statusCode: StatusCodes.Status403Forbidden, title: $"The merchant is {MerchantLifecycle.Text(state)}",
                type: Apis.V1Problems.TypeOf(code), extensions: new Dictionary<string, object?> { ["code"] = code, ["merchantStatus"] = MerchantLifecycle.Text(state) });

    /// <summary>
    /// The one-time code's form: the purchase the bank answered 1A sent again with the code the cardholder received.
    /// A code not of six digits, a forged CSRF token or an expired page sends nothing.
    /// </summary>
    private static async Task<IResult> SubmitCodeAsync(HttpContext context, string sessionId, OrderBook orders, PaymentSessions sessions,
        CardPayments payments, PageForms forms, ResultDelivery delivery, OrderAnswers answers, MerchantRegistry merchants, TimeProvider time,
        CancellationToken ct)
    {
        var submitted = await SubmittedAsync(context, sessionId, sessions, merchants, ct);
        if (submitted.Refused is { } refused)
        {
            return refused;
        }
        var (session, form) = (submitted.Session!, submitted.Form!);
        var code = form["otp"].ToString().Trim();
        Words? error = code.Length != 6 || !code.All(char.IsAsciiDigit) ? "The verification code is the 6 digits in the message from your bank." : null;
        var outcome = error is null ? await payments.PayWithCodeAsync(session, code, ConsumerNetwork(context), ct) : null;
        return await AnsweredAsync(session, sessionId, outcome, error, orders, payments, forms, delivery, answers, time, ct);
    }

    /// <summary>What the consumer sees after a submit: the result, or the form again (card or code) with what to correct.</summary>
    private static async Task<IResult> AnsweredAsync(PaymentSession session, string sessionId, PaymentOutcome? outcome, Words? error, OrderBook orders,
        CardPayments payments, PageForms forms, ResultDelivery delivery, OrderAnswers answers, TimeProvider time, CancellationToken ct)
    {
        if (outcome is { Result: PaymentResult.Approved or PaymentResult.Declined, Order: { } final, MerchantName: { } name }
            && !await delivery.AfterPaymentAsync(outcome.Notification!, ct))
        {
            return await ResultAsync(final, name, sessionId, answers, time, ct);
        }
        // Every other way on reads the order as it now is: a page to fill in again, or its result.
        if (await orders.FindForPageAsync(session.MerchantId, session.OrderId, ct) is not ({ } order, var merchantName))
        {
            return NoSuchPage();
        }
        var again = order.Status == OrderStatus.Created && order.Attempts == session.OrderAttempt && !OrderLifetime.HasEnded(order, time.GetUtcNow());
        var next = session.After(order.WrongPins);
        return outcome?.Result switch
        {
            null when again => await forms.PageAsync(next, merchantName, error, StatusCodes.Status400BadRequest, ct),
            PaymentResult.BadPin when again => await forms.PageAsync(next, merchantName, outcome.Message, StatusCodes.Status400BadRequest, ct),
            PaymentResult.NotPayable when again => await forms.PageAsync(next, merchantName,
                "This page was out of date, and nothing was charged. Please try again.", StatusCodes.Status409Conflict, ct),
            PaymentResult.WrongPin when again => await forms.PageAsync(next, merchantName, outcome.WrongPinsLeft == 1
                ? new Words("{0} 1 try left.", new Words(outcome.Message))
                : new Words("{0} {1} tries left.", new Words(outcome.Message), outcome.WrongPinsLeft), StatusCodes.Status200OK, ct),
            PaymentResult.CodeRequired when again => await forms.PageAsync(next, merchantName, null, StatusCodes.Status200OK, ct),
            PaymentResult.WrongCode when again => await forms.PageAsync(next, merchantName, outcome.Message, StatusCodes.Status200OK, ct),
            _ => await ResultAsync(order, merchantName, sessionId, answers, time, ct),
        };
    }

    /// <summary>Whether a card of expiry <paramref name="yymm"/> has expired: it is good to the end of its month.</summary>
    public static bool HasExpired(string yymm, DateTimeOffset now)
    {
        var year = 2000 + int.Parse(yymm[..2], CultureInfo.InvariantCulture);
        var month = int.Parse(yymm[2..], CultureInfo.InvariantCulture);
        return year < now.Year || (year == now.Year && month < now.Month);
    }

    private static async Task<IResult> ShowResultAsync(string sessionId, OrderBook orders, PaymentSessions sessions, OrderAnswers answers, TimeProvider time,
        CancellationToken ct) =>
        sessions.Open(sessionId) is { } session && await orders.FindForPageAsync(session.MerchantId, session.OrderId, ct) is ({ } order, var merchantName)
            ? await ResultAsync(order, merchantName, sessionId, answers, time, ct)
            : NoSuchPage();

    /// <summary>
    /// What the consumer sees of an order that is not waiting for this page: closed (its pay-by time
    /// passed, or its merchant closed it), out of date (a page of an earlier attempt), the way back to
    /// the merchant with the signed answer (a final order with a PageRetUrl, only to the holder of the
    /// page's session: the signed answer carries the card's masked number and the authorization), or its
    /// result (a pending one refreshes itself at the session's result address).
    /// </summary>
    private static async Task<IResult> ResultAsync(Order order, string merchantName, string? sessionId, OrderAnswers answers, TimeProvider time,
        CancellationToken ct)
    {
        if (OrderLifetime.HasEnded(order, time.GetUtcNow()))
        {
            return Closed();
        }
        if (order.Status == OrderStatus.Created)
        {
            return PaymentPages.Error(StatusCodes.Status410Gone, "This payment page is out of date",
                "Nothing was charged on it. Please open the payment page again from the merchant.");
        }
        if (sessionId is not null && order.IsFinal && !string.IsNullOrEmpty(order.PageRetUrl))
        {
            return PaymentPages.ReturnToMerchant(order, merchantName, await answers.SignedAsync(order, ct));
        }
        return PaymentPages.Result(order, merchantName, null, sessionId is null ? null : $"/pay/s/{sessionId}/result");
    }

    /// <summary>
    /// The consumer's address as the gateway sees it, for the risk controls' network block list: the connection's peer (the
    /// gateway trusts no forwarded headers), an IPv4 address mapped into IPv6 by a dual-mode socket as IPv4.
    /// </summary>
    public static System.Net.IPAddress? ConsumerNetwork(HttpContext context) =>
        context.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : context.Connection.RemoteIpAddress;

    private static IResult NoSuchPage() => PaymentPages.Error(StatusCodes.Status404NotFound, "No such payment page", "The payment link is not valid.");

    private const string ClosedTitle = "This order is closed";
    private const string ClosedDetail = "The time to pay it has passed, or the merchant closed it. Nothing was charged. Please return to the merchant.";

    private static IResult Closed() => PaymentPages.Error(StatusCodes.Status410Gone, ClosedTitle, ClosedDetail);

    private static IResult Expired() =>
        PaymentPages.Error(StatusCodes.Status410Gone, "This payment page has expired", "Nothing was charged. Please return to the merchant and pay again.");

    /// <summary>MM/YY (or MMYY) to ISO 8583's YYMM; null when it is not a month.</summary>
    public static string? ExpiryYyMm(string? text)
    {
        var digits = (text ?? "").Replace("/", "", StringComparison.Ordinal).Trim();
        return digits.Length == 4 && digits.All(char.IsAsciiDigit) && int.Parse(digits[..2], CultureInfo.InvariantCulture) is >= 1 and <= 12
            ? digits[2..] + digits[..2]
            : null;
    }

    private static bool SameToken(string expected, string? given) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(given));

    /// <summary>The request's form, or null when it is not a readable form of at most <see cref="FormBytesMax"/> bytes.</summary>
    public static async Task<IFormCollection?> ReadFormAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType || context.Request.ContentLength > FormBytesMax)
        {
            return null;
        }
        try
        {
            return await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException or IOException)
        {
            return null;
        }
    }

    /// <summary>A refusal as the caller reads it: a page for a browser, RFC 9457 problem details for a program.</summary>
    private static IResult Problem(HttpContext context, int statusCode, Words title, Words detail) =>
        BrowserErrorPages.WantsHtml(context.Request)
            ? PaymentPages.Error(statusCode, title, detail)
            : TypedResults.Problem(detail.English(), statusCode: statusCode, title: title.English());

    /// <summary>A form's problems: the merchant's to mend, so a browser's page says so in the consumer's language and lists them as the fields name them.</summary>
    private static IResult ValidationProblem(HttpContext context, Dictionary<string, string[]> problems) =>
        BrowserErrorPages.WantsHtml(context.Request)
            ? PaymentPages.Error(StatusCodes.Status400BadRequest, "The order has errors",
                new Words("The merchant's payment form has errors; please tell the merchant: {0}",
                    string.Join("; ", problems.Select(p => $"{p.Key}: {string.Join(", ", p.Value)}"))))
            : TypedResults.ValidationProblem(problems, title: "The order has errors");
}
