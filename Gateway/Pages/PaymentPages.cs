using System.Text;
using System.Text.Encodings.Web;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Payments;

namespace Mesh.Gateway.Pages;

/// <summary>
/// The consumer's pages, rendered on the server: the payment form, the result, the way back to
/// the merchant, and errors. Every value is HTML-encoded; the only scripts are the platform's own.
/// </summary>
public static class PaymentPages
{
    /// <summary>The payment form of <paramref name="session"/>, posting to its <paramref name="token"/>'s address.</summary>
    public static IResult Payment(string token, PaymentSession session, string merchantName, string pinScheme, string transportKey,
        IReadOnlyList<GateCode> banks, IReadOnlyList<string> creditPrefixes, string? error, int statusCode = StatusCodes.Status200OK)
    {
        var html = new StringBuilder();
        Head(html, "Pay by bank card");
        html.Append("<h1>Pay by bank card</h1>");
        Summary(html, session.OrderId, session.AmountMinor, session.Currency, merchantName);
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\" id=\"page-error\">").Append(E(error)).Append("</p>");
        }
        html.Append("<form id=\"pay\" method=\"post\" action=\"/pay/s/").Append(E(token)).Append("\" autocomplete=\"off\"")
            .Append(" data-pin-scheme=\"").Append(E(pinScheme)).Append("\" data-transport-key=\"").Append(E(transportKey))
            .Append("\" data-pin-nonce=\"").Append(E(session.PinNonce)).Append("\" data-credit-bins=\"").Append(E(string.Join(',', creditPrefixes)))
            .Append("\">")
            .Append("<input type=\"hidden\" name=\"csrf\" value=\"").Append(E(session.CsrfToken)).Append("\">")
            .Append("<input type=\"hidden\" name=\"pinScheme\" value=\"").Append(E(pinScheme)).Append("\">")
            .Append("<input type=\"hidden\" name=\"pinCiphertext\"><input type=\"hidden\" name=\"pinEphemeralKey\"><input type=\"hidden\" name=\"pinIv\">");
        if (string.IsNullOrEmpty(session.GateId))
        {
            html.Append("<fieldset><legend>Your bank</legend>");
            foreach (var bank in banks)
            {
                html.Append("<label><input type=\"radio\" name=\"gateId\" required value=\"").Append(E(bank.GateId)).Append("\"> ")
                    .Append(E(bank.BankName)).Append("</label>");
            }
            html.Append("</fieldset>");
        }
        html.Append("<label for=\"pan\">Card number</label><input type=\"text\" id=\"pan\" name=\"pan\" inputmode=\"numeric\" maxlength=\"23\" required>")
            .Append("<label for=\"expiry\">Expiry (MM/YY)</label><input type=\"text\" id=\"expiry\" name=\"expiry\" inputmode=\"numeric\" maxlength=\"5\" placeholder=\"MM/YY\" required>")
            .Append("<div id=\"pin-fields\"><label for=\"pin\">PIN</label><input type=\"password\" id=\"pin\" inputmode=\"numeric\" maxlength=\"12\" required></div>")
            // A credit card pays with its CVV2 instead of a PIN: the script shows this for a credit BIN (and the server asks for it).
            .Append("<div id=\"credit-fields\" hidden><label for=\"cvv2\">CVV2 (the 3 digits on the back of the card)</label>")
            .Append("<input type=\"password\" id=\"cvv2\" name=\"cvv2\" inputmode=\"numeric\" maxlength=\"3\"></div>")
            .Append("<p class=\"error\" id=\"pin-error\" role=\"alert\"></p>")
            .Append("<button type=\"submit\" id=\"pay-button\">Pay ").Append(E(PageFormat.Invariant(session.AmountMinor, session.Currency))).Append("</button></form>")
            .Append("<script src=\"/pay/assets/pay.js\" integrity=\"").Append(PageAssets.Integrity("pay.js")).Append("\"></script>");
        return Finish(html, statusCode, formAction: null);
    }

    /// <summary>
    /// The page that asks for the one-time code a credit card's bank sent the cardholder (after its 1A), posting to the
    /// session's <c>/code</c> address. Shown only while the order waits for that code.
    /// </summary>
    public static IResult Code(string token, PaymentSession session, string merchantName, string panMasked, string? message, string? error,
        int statusCode = StatusCodes.Status200OK)
    {
        var html = new StringBuilder();
        Head(html, "Confirm the payment");
        html.Append("<h1>Confirm the payment</h1>");
        Summary(html, session.OrderId, session.AmountMinor, session.Currency, merchantName);
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\" id=\"page-error\">").Append(E(error)).Append("</p>");
        }
        html.Append("<p id=\"code-message\">").Append(E(message ?? "Your bank has sent a verification code to your phone. Please enter it to confirm the payment."))
            .Append("</p><p>Card <span id=\"card\">").Append(E(panMasked)).Append("</span></p>")
            .Append("<form id=\"code\" method=\"post\" action=\"/pay/s/").Append(E(token)).Append("/code\" autocomplete=\"off\">")
            .Append("<input type=\"hidden\" name=\"csrf\" value=\"").Append(E(session.CsrfToken)).Append("\">")
            .Append("<label for=\"otp\">Verification code</label><input type=\"text\" id=\"otp\" name=\"otp\" inputmode=\"numeric\" maxlength=\"6\" required>")
            .Append("<button type=\"submit\" id=\"code-button\">Confirm ").Append(E(PageFormat.Invariant(session.AmountMinor, session.Currency))).Append("</button></form>");
        return Finish(html, statusCode, formAction: null);
    }

    /// <summary>An order's result; a pending one reloads itself, or <paramref name="refreshUrl"/> (a GET, never the form's POST again), every two seconds.</summary>
    public static IResult Result(Order order, string merchantName, string? message, string? refreshUrl = null)
    {
        var html = new StringBuilder();
        var pending = !order.IsFinal;
        Head(html, "Payment result", refresh: !pending ? null : refreshUrl is null ? "2" : $"2;url={refreshUrl}");
        var (title, css) = order.Status switch
        {
            OrderStatus.Paid => ("Payment successful", "ok"),
            OrderStatus.Authorized or OrderStatus.Capturing => ("Payment authorized", "ok"),
            OrderStatus.Released or OrderStatus.Expired => ("Authorization released", "error"),
            OrderStatus.Failed => ("Payment failed", "error"),
            OrderStatus.Closed => ("Order closed", "error"),
            OrderStatus.Voided => ("Payment voided", "error"),
            _ => ("Payment pending", ""),
        };
        html.Append("<h1 id=\"result\" class=\"").Append(css).Append("\">").Append(title).Append("</h1>");
        Summary(html, order, merchantName);
        html.Append("<p id=\"message\">").Append(E(message ?? order.ResultMessage ?? (pending
            ? "Your bank has not answered yet. This page updates by itself; you will not be charged twice."
            : ""))).Append("</p>");
        if (Risk.RiskCodes.IsRisk(order.ResponseCode))
        {
            html.Append("<p id=\"risk-code\">Code ").Append(E(Risk.RiskCodes.ForConsumer(order.ResponseCode!))).Append("</p>");
        }
        return Finish(html, StatusCodes.Status200OK, formAction: null);
    }

    /// <summary>Sends the browser to the merchant's PageRetUrl with the signed answer (a POST, as NetPay does), by script or by the button.</summary>
    public static IResult ReturnToMerchant(Order order, string merchantName, IEnumerable<KeyValuePair<string, string?>> answer)
    {
        var html = new StringBuilder();
        Head(html, "Returning to the merchant");
        html.Append("<h1 id=\"result\" class=\"").Append(order.Status switch
        {
            OrderStatus.Paid => "ok\">Payment successful",
            OrderStatus.Authorized or OrderStatus.Capturing => "ok\">Payment authorized",
            OrderStatus.Closed => "error\">Order closed",
            OrderStatus.Voided => "error\">Payment voided",
            _ => "error\">Payment failed",
        }).Append("</h1>");
        Summary(html, order, merchantName);
        html.Append("<p id=\"message\">").Append(E(order.ResultMessage ?? "")).Append("</p>");
        html.Append("<form id=\"return\" method=\"post\" action=\"").Append(E(order.PageRetUrl!)).Append("\">");
        foreach (var (name, value) in answer)
        {
            html.Append("<input type=\"hidden\" name=\"").Append(E(name)).Append("\" value=\"").Append(E(value ?? "")).Append("\">");
        }
        html.Append("<button type=\"submit\">Return to ").Append(E(merchantName)).Append("</button></form>")
            .Append("<script src=\"/pay/assets/return.js\" integrity=\"").Append(PageAssets.Integrity("return.js")).Append("\"></script>");
        return Finish(html, StatusCodes.Status200OK, formAction: new Uri(order.PageRetUrl!).GetLeftPart(UriPartial.Authority));
    }

    public static IResult Error(int statusCode, string title, string detail)
    {
        var html = new StringBuilder();
        Head(html, title);
        html.Append("<h1 class=\"error\">").Append(E(title)).Append("</h1><p id=\"message\">").Append(E(detail)).Append("</p>");
        return Finish(html, statusCode, formAction: null);
    }

    private static void Summary(StringBuilder html, Order order, string merchantName) =>
        Summary(html, order.OrderId, order.AmountMinor, order.Currency, merchantName);

    private static void Summary(StringBuilder html, string orderId, long amountMinor, string currency, string merchantName) =>
        html.Append("<dl><dt>Merchant</dt><dd id=\"merchant\">").Append(E(merchantName)).Append("</dd><dt>Order</dt><dd id=\"order\">")
            .Append(E(orderId)).Append("</dd><dt>Amount</dt><dd id=\"amount\" class=\"amount\">").Append(E(PageFormat.Invariant(amountMinor, currency)))
            .Append("</dd></dl>");

    private static void Head(StringBuilder html, string title, string? refresh = null)
    {
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        if (refresh is not null)
        {
            html.Append("<meta http-equiv=\"refresh\" content=\"").Append(E(refresh)).Append("\">");
        }
        html.Append("<title>").Append(E(title)).Append(" · Mesh</title><link rel=\"stylesheet\" href=\"/pay/assets/pay.css\" integrity=\"")
            .Append(PageAssets.Integrity("pay.css")).Append("\"></head><body><main>");
    }

    private static IResult Finish(StringBuilder html, int statusCode, string? formAction)
    {
        html.Append("</main></body></html>");
        return new HtmlPage(html.ToString(), statusCode, formAction);
    }

    private static string E(string text) => HtmlEncoder.Default.Encode(text);
}
