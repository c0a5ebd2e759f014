using System.Globalization;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Risk;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The merchant console's Risk page (<c>/console/risk</c>): the platform's caps, the merchant's own limits (an admin
/// sets them, never looser than a cap: the error says so), and the attempts the risk controls refused, with their code.
/// Every change is audited.
/// </summary>
public static class MerchantRiskPages
{
    public static RouteGroupBuilder MapMerchantRisk(this RouteGroupBuilder signedIn)
    {
        signedIn.MapGet("/risk", async (HttpContext http, RiskStore risk, CancellationToken ct) =>
            await PageAsync(ConsoleAuthentication.Session(http), risk, null, null, StatusCodes.Status200OK, ct));
        signedIn.MapPost("/risk/limits", SetLimitsAsync).RequireAuthorization(ConsolePolicies.MerchantAdmin);
        return signedIn;
    }

    private static async Task<IResult> SetLimitsAsync(HttpContext http, RiskStore risk, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var problems = new List<string>();
        var perPayment = RiskRules.Limit("the limit per payment", form["perPaymentMinor"], problems);
        var perDay = RiskRules.Limit("the limit per day", form["perDayMinor"], problems);
        var caps = await risk.LimitsAsync(session.MerchantId, OrderRules.Cny, ct);
        if (problems.Count == 0)
        {
            RiskRules.NotLooserThanCaps(caps, perPayment, perDay, problems);
        }
        if (problems.Count > 0 || await risk.SetMerchantLimitsAsync(session.MerchantId, OrderRules.Cny, perPayment, perDay, ct) is null)
        {
            return await PageAsync(session, risk, null, problems.Count > 0 ? string.Join("; ", problems) : "The platform's caps changed meanwhile: open the page again.",
                StatusCodes.Status400BadRequest, ct);
        }
        var detail = string.Create(CultureInfo.InvariantCulture, $"per payment {perPayment?.ToString(CultureInfo.InvariantCulture) ?? "none"}, per day {perDay?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        await accounts.AuditAsync(session, "risk-limits-set", detail, ct);
        return await PageAsync(session, risk, $"Your limits: {detail}.", null, StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> PageAsync(ConsoleSession session, RiskStore risk, string? message, string? error, int statusCode, CancellationToken ct)
    {
        var limits = await risk.LimitsAsync(session.MerchantId, OrderRules.Cny, ct);
        var html = ConsolePages.Layout(session, "Risk");
        html.Append("<h1>Risk controls</h1>");
        ConsolePages.Messages(html, message, error);
        html.Append("<table id=\"limits\"><thead><tr><th></th><th class=\"num\">Per payment</th><th class=\"num\">Per day</th></tr></thead><tbody>")
            .Append("<tr><td>The platform's caps</td><td class=\"num\" id=\"cap-payment\">").Append(Shown(limits.CapPerPaymentMinor))
            .Append("</td><td class=\"num\" id=\"cap-day\">").Append(Shown(limits.CapPerDayMinor)).Append("</td></tr>")
            .Append("<tr><td>Your limits</td><td class=\"num\" id=\"own-payment\">").Append(Shown(limits.MerchantPerPaymentMinor))
            .Append("</td><td class=\"num\" id=\"own-day\">").Append(Shown(limits.MerchantPerDayMinor)).Append("</td></tr></tbody></table>")
            .Append("<p>Amounts in minor units of CNY (156). A payment over the limit per payment is refused (<code>risk.limit_per_payment</code>); ")
            .Append("one that would take the business day's approved and in-flight amount over the limit per day too (<code>risk.limit_per_day</code>).</p>");
        if (session.Role == ConsoleRoles.Admin)
        {
            html.Append("<form method=\"post\" action=\"/console/risk/limits\">");
            ConsolePages.Csrf(html, session);
            OperatorRiskPages.Input(html, "perPaymentMinor", "Your limit per payment (blank: none)", limits.MerchantPerPaymentMinor?.ToString(CultureInfo.InvariantCulture) ?? "");
            OperatorRiskPages.Input(html, "perDayMinor", "Your limit per day (blank: none)", limits.MerchantPerDayMinor?.ToString(CultureInfo.InvariantCulture) ?? "");
            html.Append("<br><button class=\"primary\" type=\"submit\" id=\"set-limits\">Save</button></form>");
        }
        html.Append("<h2>Refused attempts</h2>");
        OperatorRiskPages.Refusals(html, await risk.RefusalsAsync(session.MerchantId, null, RiskRules.RefusalsListed, ct), withMerchant: false);
        return ConsolePages.Finish(html, statusCode);
    }

    private static string Shown(long? limit) => limit is { } minor ? minor.ToString(CultureInfo.InvariantCulture) : "none";
}
