using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Mesh.Gateway.Pages;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The consoles' sign-in and error pages (Razor components), and the StringBuilder helpers the operator console's pages
/// still build on: every value HTML-encoded, every form carrying an antiforgery token. The merchant console's own pages
/// are <see cref="MerchantPages"/>.
/// </summary>
public static class ConsolePages
{
    /// <summary>
    /// A console's sign-in page (<see cref="Components.SignIn"/>), with a fresh antiforgery token; <paramref name="error"/> names a
    /// <see cref="Localization.ConsoleText"/> resource, formatted with <paramref name="arguments"/>.
    /// </summary>
    public static IResult Login(HttpContext http, bool platform, string? error = null, int statusCode = StatusCodes.Status200OK, params object[] arguments) =>
        SecurePage.Of<Components.SignIn>(new Dictionary<string, object?>
        {
            [nameof(Components.SignIn.Token)] = ConsoleAuthentication.FormToken(http),
            [nameof(Components.SignIn.Platform)] = platform,
            [nameof(Components.SignIn.Error)] = error,
            [nameof(Components.SignIn.ErrorArguments)] = arguments,
        }, statusCode);

    /// <summary>What an action did, or why it did not.</summary>
    public static void Messages(StringBuilder html, string? message, string? error)
    {
        if (message is not null)
        {
            html.Append("<p class=\"ok\" id=\"message\">").Append(E(message)).Append("</p>");
        }
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\" id=\"error-message\">").Append(E(error)).Append("</p>");
        }
    }

    public static void Select(StringBuilder html, string name, string label, IEnumerable<string> options, string selected)
    {
        html.Append("<label for=\"").Append(name).Append("\">").Append(E(label)).Append("</label><select id=\"").Append(name).Append("\" name=\"").Append(name).Append("\">");
        foreach (var option in options)
        {
            html.Append("<option").Append(option == selected ? " selected" : "").Append('>').Append(E(option)).Append("</option>");
        }
        html.Append("</select>");
    }

    /// <summary>A console's error page (<see cref="Components.ConsoleError"/>); <paramref name="title"/> and <paramref name="detail"/> are in the request's language.</summary>
    public static IResult Error(ConsoleSession? session, int statusCode, string title, string detail) =>
        SecurePage.Of<Components.ConsoleError>(new Dictionary<string, object?>
        {
            [nameof(Components.ConsoleError.Session)] = session,
            [nameof(Components.ConsoleError.Title)] = title,
            [nameof(Components.ConsoleError.Detail)] = detail,
        }, statusCode);

    /// <summary>The page's head and the console's navigation: the merchant console's, or the operator console's for the platform's people.</summary>
    public static StringBuilder Layout(ConsoleSession session, string title)
    {
        var platform = session.MerchantId == ConsoleRoles.Platform;
        var html = Start(title + (platform ? " · Mesh operator console" : " · Mesh merchant console")).Append("<header><strong>Mesh</strong>");
        if (platform)
        {
            html.Append("<a href=\"/ops\">Switch</a><a href=\"/ops/merchants\">Merchants</a><a href=\"/ops/banks\">Banks</a><a href=\"/ops/gates\">Gate codes</a><a href=\"/ops/risk\">Risk</a><a href=\"/ops/keys\">Keys</a><a href=\"/ops/settlement\">Settlement</a>")
                .Append("<a href=\"/ops/reconciliation\">Reconciliation</a><a href=\"/ops/sessions\">Sessions</a>");
        }
        else
        {
            html.Append("<a href=\"/console\">Home</a><a href=\"/console/transactions\">Transactions</a><a href=\"/console/notifications\">Notifications</a>")
                .Append("<a href=\"/console/settlement\">Settlement</a><a href=\"/console/risk\">Risk</a>")
                .Append(session.Role == ConsoleRoles.Admin ? "<a href=\"/console/settings\">Keys and settings</a><a href=\"/console/users\">Operators</a>" : "");
        }
        html.Append("<span class=\"who\" id=\"who\">").Append(E(session.MerchantId)).Append(" · ").Append(E(session.OperatorId)).Append(" (").Append(E(session.Role))
            .Append(")</span><form method=\"post\" action=\"").Append(platform ? "/ops/logout" : "/console/logout").Append("\">");
        Csrf(html, session);
        html.Append("<button type=\"submit\" id=\"sign-out\">Sign out</button></form></header><main>");
        return html;
    }

    /// <summary>The document's head, with the console's style sheet (and its SRI hash), and the opening body tag.</summary>
    private static StringBuilder Start(string title) =>
        new StringBuilder().Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
            .Append(E(title)).Append("</title><link rel=\"stylesheet\" href=\"/pay/assets/console.css\" integrity=\"").Append(PageAssets.Integrity("console.css"))
            .Append("\"></head><body>");

    public static IResult Finish(StringBuilder html, int statusCode = StatusCodes.Status200OK) =>
        new HtmlPage(html.Append("</main></body></html>").ToString(), statusCode);

    public static void Csrf(StringBuilder html, ConsoleSession session) =>
        html.Append("<input type=\"hidden\" name=\"csrf\" value=\"").Append(E(session.CsrfToken)).Append("\">");

    public static void Field(StringBuilder html, string name, string label, string value, string type) =>
        html.Append("<label for=\"").Append(name).Append("\">").Append(E(label)).Append("<br><input id=\"").Append(name).Append("\" name=\"").Append(name)
            .Append("\" type=\"").Append(type).Append("\" value=\"").Append(E(value)).Append("\" maxlength=\"32\"></label>");

    public static string Time(DateTimeOffset at) =>
        E(TimeZoneInfo.ConvertTime(at, ConsoleQueries.BusinessZone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));

    public static string E(string text) => HtmlEncoder.Default.Encode(text);
}
