using System.Globalization;
using Mesh.Gateway.Localization;
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
        var problems = new List<Words>();
        var perPayment = RiskRules.Limit("the limit per payment", form["perPaymentMinor"], problems);
        var perDay = RiskRules.Limit("the limit per day", form["perDayMinor"], problems);
        var caps = await risk.LimitsAsync(session.MerchantId, OrderRules.Cny, ct);
        if (problems.Count == 0)
        {
            RiskRules.NotLooserThanCaps(caps, perPayment, perDay, problems);
        }
        if (problems.Count > 0 || await risk.SetMerchantLimitsAsync(session.MerchantId, OrderRules.Cny, perPayment, perDay, ct) is null)
        {
            return await PageAsync(session, risk, null, problems.Count > 0 ? Words.List(problems)
                : "The platform's caps changed meanwhile: open the page again.", StatusCodes.Status400BadRequest, ct);
        }
        var detail = string.Create(CultureInfo.InvariantCulture, $"per payment {perPayment?.ToString(CultureInfo.InvariantCulture) ?? "none"}, per day {perDay?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        await accounts.AuditAsync(session, "risk-limits-set", detail, ct);
        return await PageAsync(session, risk, new Words("Your limits are saved: per payment {0}, per day {1}.", Limit(perPayment), Limit(perDay)), null,
            StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> PageAsync(ConsoleSession session, RiskStore risk, Words? message, Words? error, int statusCode, CancellationToken ct) =>
        MerchantPages.Risk(session, await risk.LimitsAsync(session.MerchantId, OrderRules.Cny, ct),
            await risk.RefusalsAsync(session.MerchantId, null, RiskRules.RefusalsListed, ct), message, error, statusCode);

    /// <summary>A limit as the saved message shows it: its minor units, or none.</summary>
    private static Words Limit(long? minor) => minor is { } value ? new Words("{0} fen", value.ToString(CultureInfo.InvariantCulture)) : new Words("none");
}
