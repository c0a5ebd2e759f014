using System.Globalization;
using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Risk;
using Mesh.Iso8583.Messages;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The operator console's Risk page (<c>/ops/risk</c>), a platform admin's only: the velocity settings per card, each
/// merchant's caps, the block list (a card entered by its number, hashed by the Hsm at once and kept only as that hash
/// and its masked form; a network as an address or CIDR prefix), and the refusals, filterable by merchant and rule.
/// Every change is audited; the signed-in filter checks each form's antiforgery token. A platform operator who is not an
/// admin is refused (403) by the platform admin policy.
/// </summary>
public static class OperatorRiskPages
{
    public static RouteGroupBuilder MapRisk(this RouteGroupBuilder signedIn)
    {
        var admin = signedIn.MapGroup("/risk").RequireAuthorization(ConsolePolicies.PlatformAdmin);
        admin.MapGet("", async (HttpContext http, RiskStore risk, CancellationToken ct) =>
            await PageAsync(http, ConsoleAuthentication.Session(http), risk, null, null, StatusCodes.Status200OK, ct));
        admin.MapPost("/velocity", VelocityAsync);
        admin.MapPost("/caps", CapsAsync);
        admin.MapPost("/blocks/card", BlockCardAsync);
        admin.MapPost("/blocks/network", BlockNetworkAsync);
        admin.MapPost("/blocks/{blockId:long}/remove", UnblockAsync);
        return signedIn;
    }

    private static async Task<IResult> VelocityAsync(HttpContext http, RiskStore risk, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var problems = new List<Words>();
        if (RiskRules.Velocity(form["attemptsMax"], form["amountMinorMax"], form["windowMinutes"], problems) is not { } settings)
        {
            return await PageAsync(http, session, risk, null, Words.List(problems), StatusCodes.Status400BadRequest, ct);
        }
        await risk.SetVelocityAsync(settings, ct);
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{settings.AttemptsMax} attempts and {settings.AmountMinorMax} minor units per card per {settings.WindowMinutes} minutes (0: off)");
        await accounts.AuditAsync(session, "risk-velocity-set", detail, ct);
        return await PageAsync(http, session, risk, new Words("Velocity per card: {0} attempts and {1} minor units per card per {2} minutes (0: off).", settings.AttemptsMax, settings.AmountMinorMax, settings.WindowMinutes), null, StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> CapsAsync(HttpContext http, RiskStore risk, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var problems = new List<Words>();
        var merchantId = form["merchantId"].ToString().Trim();
        if (!OrderRules.MerchantId().IsMatch(merchantId))
        {
            problems.Add("the merchant id is 15 digits");
        }
        var currency = OrderRules.Currencies.GetValueOrDefault(form["currency"].ToString().Trim());
        if (currency is null)
        {
            problems.Add(new Words("the currency is one of {0}", string.Join(", ", OrderRules.Currencies.Keys)));
        }
        var perPayment = RiskRules.Limit("the cap per payment", form["perPaymentMinor"], problems);
        var perDay = RiskRules.Limit("the cap per day", form["perDayMinor"], problems);
        if (problems.Count > 0)
        {
            return await PageAsync(http, session, risk, null, Words.List(problems), StatusCodes.Status400BadRequest, ct);
        }
        if (await risk.SetCapsAsync(merchantId, currency!, perPayment, perDay, ct) is null)
        {
            return await PageAsync(http, session, risk, null, new Words("No merchant {0}.", merchantId), StatusCodes.Status404NotFound, ct);
        }
        var detail = string.Create(CultureInfo.InvariantCulture, $"{merchantId} in {currency}: per payment {perPayment?.ToString(CultureInfo.InvariantCulture) ?? "none"}, per day {perDay?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        await accounts.AuditAsync(session, "risk-caps-set", detail, ct);
        return await PageAsync(http, session, risk, new Words("Caps of {0} in {1}: per payment {2}, per day {3}.", merchantId, currency!, Shown(perPayment), Shown(perDay)), null, StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> BlockCardAsync(HttpContext http, RiskStore risk, Acquirer acquirer, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var problems = new List<Words>();
        var parsed = Pan.TryParse(form["pan"].ToString().Replace(" ", "", StringComparison.Ordinal), out var pan);
        if (!parsed)
        {
            problems.Add("the card number is 13 to 19 digits with a valid check digit");
        }
        var reason = RiskRules.Reason(form["reason"], problems);
        if (problems.Count > 0)
        {
            return await PageAsync(http, session, risk, null, Words.List(problems), StatusCodes.Status400BadRequest, ct);
        }
        // The number goes to the Hsm for its keyed hash and is not kept: the list holds the hash and the masked number.
        var added = await risk.BlockCardAsync(await acquirer.LookupHashAsync(pan, ct), pan.Masked, reason!, session.OperatorId, ct);
        if (added)
        {
            await accounts.AuditAsync(session, "risk-card-blocked", $"{pan.Masked}: {reason}", ct);
        }
        return await PageAsync(http, session, risk, added ? new Words("Card {0} is blocked.", pan.Masked) : new Words("Card {0} was already blocked.", pan.Masked), null,
            StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> BlockNetworkAsync(HttpContext http, RiskStore risk, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var problems = new List<Words>();
        var network = RiskRules.Network(form["network"], problems);
        var reason = RiskRules.Reason(form["reason"], problems);
        if (problems.Count > 0)
        {
            return await PageAsync(http, session, risk, null, Words.List(problems), StatusCodes.Status400BadRequest, ct);
        }
        var added = await risk.BlockNetworkAsync(network!, reason!, session.OperatorId, ct);
        if (added)
        {
            await accounts.AuditAsync(session, "risk-network-blocked", $"{network}: {reason}", ct);
        }
        return await PageAsync(http, session, risk, added ? new Words("Network {0} is blocked.", network!) : new Words("Network {0} was already blocked.", network!), null,
            StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> UnblockAsync(HttpContext http, long blockId, RiskStore risk, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        if (await risk.UnblockAsync(blockId, ct) is not { } block)
        {
            return await PageAsync(http, session, risk, null, "No such block.", StatusCodes.Status404NotFound, ct);
        }
        await accounts.AuditAsync(session, "risk-unblocked", $"{block.Kind} {block.What}", ct);
        return await PageAsync(http, session, risk, new Words("The block of {0} {1} is lifted.", Words.Label("Block", block.Kind), block.What), null, StatusCodes.Status200OK, ct);
    }

    /// <summary>A limit as the audit row and the message give it: minor units, or none (worded on the page).</summary>
    private static object Shown(long? limit) => limit is { } minor ? minor.ToString(CultureInfo.InvariantCulture) : new Words("none");

    private static async Task<IResult> PageAsync(HttpContext http, ConsoleSession session, RiskStore risk, Words? message, Words? error, int statusCode,
        CancellationToken ct)
    {
        var (merchantFilter, ruleFilter) = (http.Request.Query["merchant"].ToString().Trim(), http.Request.Query["rule"].ToString().Trim());
        var filterIsValid = (merchantFilter.Length == 0 || OrderRules.MerchantId().IsMatch(merchantFilter)) && (ruleFilter.Length == 0 || RiskCodes.All.Contains(ruleFilter));
        var refusals = filterIsValid ? await risk.RefusalsAsync(Blank(merchantFilter), Blank(ruleFilter), RiskRules.RefusalsListed, ct) : null;
        return OperatorPage.Of<Components.Operator.RiskPage>(filterIsValid ? statusCode : StatusCodes.Status400BadRequest,
            (nameof(Components.Operator.RiskPage.Session), session), (nameof(Components.Operator.RiskPage.Velocity), await risk.VelocityAsync(ct)),
            (nameof(Components.Operator.RiskPage.Limits), await risk.AllLimitsAsync(ct)), (nameof(Components.Operator.RiskPage.Blocks), await risk.BlocksAsync(ct)),
            (nameof(Components.Operator.RiskPage.Refusals), refusals), (nameof(Components.Operator.RiskPage.MerchantFilter), merchantFilter),
            (nameof(Components.Operator.RiskPage.RuleFilter), ruleFilter), (nameof(Components.Operator.RiskPage.Message), message),
            (nameof(Components.Operator.RiskPage.Error), error));
    }

    private static string? Blank(string text) => text.Length == 0 ? null : text;
}
