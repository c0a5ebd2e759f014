using Mesh.Gateway.Localization;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Pages.Consumer;
using Mesh.Gateway.Payments;

namespace Mesh.Gateway.Pages;

/// <summary>What the payment form shows: the session and its token (the form's address), the PIN's transport key, the banks to choose from.</summary>
public sealed record PaymentPageModel(string Token, PaymentSession Session, string MerchantName, string PinScheme, string TransportKey,
    IReadOnlyList<GateCode> Banks, IReadOnlyList<string> CreditPrefixes, Words? Error);

/// <summary>What the one-time code's page shows: the session and its token, the card's masked number.</summary>
public sealed record CodePageModel(string Token, PaymentSession Session, string MerchantName, string PanMasked, Words? Error);

/// <summary>An order's result, with a message that says more than the order's own, and the reload of a pending one.</summary>
public sealed record ResultPageModel(Order Order, string MerchantName, Words? Message, string? Refresh);

/// <summary>A final order on its way back to the merchant, with the signed answer the browser posts there.</summary>
public sealed record ReturnPageModel(Order Order, string MerchantName, IReadOnlyList<KeyValuePair<string, string?>> Answer);

/// <summary>
/// The consumer's pages, Razor components rendered on the server (<see cref="SecurePage"/>): the payment form, the
/// one-time code's form, the result, the way back to the merchant, and errors, in the request's language.
/// </summary>
public static class PaymentPages
{
    public static IResult Payment(string token, PaymentSession session, string merchantName, string pinScheme, string transportKey,
        IReadOnlyList<GateCode> banks, IReadOnlyList<string> creditPrefixes, Words? error, int statusCode = StatusCodes.Status200OK) =>
        SecurePage.Of<PaymentPage>(Model(new PaymentPageModel(token, session, merchantName, pinScheme, transportKey, banks, creditPrefixes, error)), statusCode);

    /// <summary>The page that asks for the one-time code a credit card's bank sent the cardholder; shown only while the order waits for it.</summary>
    public static IResult Code(string token, PaymentSession session, string merchantName, string panMasked, Words? error,
        int statusCode = StatusCodes.Status200OK) =>
        SecurePage.Of<CodePage>(Model(new CodePageModel(token, session, merchantName, panMasked, error)), statusCode);

    /// <summary>An order's result; a pending one reloads itself, or <paramref name="refreshUrl"/> (a GET, never the form's POST again), every two seconds.</summary>
    public static IResult Result(Order order, string merchantName, Words? message, string? refreshUrl = null) =>
        SecurePage.Of<ResultPage>(Model(new ResultPageModel(order, merchantName, message,
            order.IsFinal ? null : refreshUrl is null ? "2" : $"2;url={refreshUrl}")));

    /// <summary>Sends the browser to the merchant's PageRetUrl with the signed answer; the CSP lets the form post only there.</summary>
    public static IResult ReturnToMerchant(Order order, string merchantName, IEnumerable<KeyValuePair<string, string?>> answer) =>
        SecurePage.Of<ReturnPage>(Model(new ReturnPageModel(order, merchantName, answer.ToList())),
            formAction: new Uri(order.PageRetUrl!).GetLeftPart(UriPartial.Authority));

    public static IResult Error(int statusCode, Words title, Words detail) =>
        SecurePage.Of<ErrorPage>(new Dictionary<string, object?> { [nameof(ErrorPage.Title)] = title, [nameof(ErrorPage.Detail)] = detail }, statusCode);

    private static Dictionary<string, object?> Model(object model) => new() { ["Model"] = model };
}
