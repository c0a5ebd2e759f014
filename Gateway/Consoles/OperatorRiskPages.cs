using System.Globalization;
using System.Text;
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
        var problems = new List<string>();
        if (RiskRules.Velocity(form["attemptsMax"], form["amountMinorMax"], form["windowMinutes"], problems) is not { } settings)
        {
            return await PageAsync(http, session, risk, null, string.Join("; ", problems), StatusCodes.Status400BadRequest, ct);
        }
        await risk.SetVelocityAsync(settings, ct);
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{settings.AttemptsMax} attempts and {settings.AmountMinorMax} minor units per card per {settings.WindowMinutes} minutes (0: off)");
        await accounts.AuditAsync(session, "risk-velocity-set", detail, ct);
        return await PageAsync(http, session, risk, $"Velocity per card: {detail}.", null, StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> CapsAsync(HttpContext http, RiskStore risk, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var problems = new List<string>();
        var merchantId = form["merchantId"].ToString().Trim();
        if (!OrderRules.MerchantId().IsMatch(merchantId))
        {
            problems.Add("the merchant id is 15 digits");
        }
        var currency = OrderRules.Currencies.GetValueOrDefault(form["currency"].ToString().Trim());
        if (currency is null)
        {
            problems.Add($"the currency is one of {string.Join(", ", OrderRules.Currencies.Keys)}");
        }
        var perPayment = RiskRules.Limit("the cap per payment", form["perPaymentMinor"], problems);
        var perDay = RiskRules.Limit("the cap per day", form["perDayMinor"], problems);
        if (problems.Count > 0)
        {
            return await PageAsync(http, session, risk, null, string.Join("; ", problems), StatusCodes.Status400BadRequest, ct);
        }
        if (await risk.SetCapsAsync(merchantId, currency!, perPayment, perDay, ct) is null)
        {
            return await PageAsync(http, session, risk, null, $"No merchant {merchantId}.", StatusCodes.Status404NotFound, ct);
        }
        var detail = $"{merchantId} in {currency}: per payment {Shown(perPayment)}, per day {Shown(perDay)}";
        await accounts.AuditAsync(session, "risk-caps-set", detail, ct);
        return await PageAsync(http, session, risk, $"Caps of {detail}.", null, StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> BlockCardAsync(HttpContext http, RiskStore risk, Acquirer acquirer, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var problems = new List<string>();
        var parsed = Pan.TryParse(form["pan"].ToString().Replace(" ", "", StringComparison.Ordinal), out var pan);
        if (!parsed)
        {
            problems.Add("the card number is 13 to 19 digits with a valid check digit");
        }
        var reason = RiskRules.Reason(form["reason"], problems);
        if (problems.Count > 0)
        {
            return await PageAsync(http, session, risk, null, string.Join("; ", problems), StatusCodes.Status400BadRequest, ct);
        }
        // The number goes to the Hsm for its keyed hash and is not kept: the list holds the hash and the masked number.
        var added = await risk.BlockCardAsync(await acquirer.LookupHashAsync(pan, ct), pan.Masked, reason!, session.OperatorId, ct);
        if (added)
        {
            await accounts.AuditAsync(session, "risk-card-blocked", $"{pan.Masked}: {reason}", ct);
        }
        return await PageAsync(http, session, risk, added ? $"Card {pan.Masked} is blocked." : $"Card {pan.Masked} was already blocked.", null,
            StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> BlockNetworkAsync(HttpContext http, RiskStore risk, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var problems = new List<string>();
        var network = RiskRules.Network(form["network"], problems);
        var reason = RiskRules.Reason(form["reason"], problems);
        if (problems.Count > 0)
        {
            return await PageAsync(http, session, risk, null, string.Join("; ", problems), StatusCodes.Status400BadRequest, ct);
        }
        var added = await risk.BlockNetworkAsync(network!, reason!, session.OperatorId, ct);
        if (added)
        {
            await accounts.AuditAsync(session, "risk-network-blocked", $"{network}: {reason}", ct);
        }
        return await PageAsync(http, session, risk, added ? $"Network {network} is blocked." : $"Network {network} was already blocked.", null,
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
        return await PageAsync(http, session, risk, $"The block of {block.Kind} {block.What} is lifted.", null, StatusCodes.Status200OK, ct);
    }

    private static string Shown(long? limit) => limit is { } minor ? minor.ToString(CultureInfo.InvariantCulture) : "none";

    private static async Task<IResult> PageAsync(HttpContext http, ConsoleSession session, RiskStore risk, string? message, string? error, int statusCode,
        CancellationToken ct)
    {
        var (merchantFilter, ruleFilter) = (http.Request.Query["merchant"].ToString().Trim(), http.Request.Query["rule"].ToString().Trim());
        var html = ConsolePages.Layout(session, "Risk");
        html.Append("<h1>Risk controls</h1><p>Checked before a card payment goes to the switch. See docs/operations.md for what counts.</p>");
        ConsolePages.Messages(html, message, error);
        var velocity = await risk.VelocityAsync(ct);
        html.Append("<h2>Velocity per card</h2><form method=\"post\" action=\"/ops/risk/velocity\">");
        ConsolePages.Csrf(html, session);
        Input(html, "attemptsMax", "Attempts per card per window (0: off)", velocity.AttemptsMax.ToString(CultureInfo.InvariantCulture));
        Input(html, "amountMinorMax", "Amount per card per window, minor units (0: off)", velocity.AmountMinorMax.ToString(CultureInfo.InvariantCulture));
        Input(html, "windowMinutes", "Window, minutes", velocity.WindowMinutes.ToString(CultureInfo.InvariantCulture));
        html.Append("<br><button class=\"primary\" type=\"submit\" id=\"set-velocity\">Save</button></form>");

        html.Append("<h2>Merchant caps</h2><table id=\"caps\"><thead><tr><th>Merchant</th><th>Currency</th><th class=\"num\">Cap per payment</th>")
            .Append("<th class=\"num\">Cap per day</th><th class=\"num\">Merchant's per payment</th><th class=\"num\">Merchant's per day</th><th>Since</th></tr></thead><tbody>");
        foreach (var l in await risk.AllLimitsAsync(ct))
        {
            html.Append("<tr id=\"caps-").Append(ConsolePages.E(l.MerchantId)).Append("\"><td>").Append(ConsolePages.E(l.MerchantId)).Append("</td><td>")
                .Append(ConsolePages.E(l.Currency)).Append("</td><td class=\"num\">").Append(Shown(l.CapPerPaymentMinor)).Append("</td><td class=\"num\">")
                .Append(Shown(l.CapPerDayMinor)).Append("</td><td class=\"num\">").Append(Shown(l.MerchantPerPaymentMinor)).Append("</td><td class=\"num\">")
                .Append(Shown(l.MerchantPerDayMinor)).Append("</td><td>").Append(l.UpdatedAt is { } at ? ConsolePages.Time(at) : "").Append("</td></tr>");
        }
        html.Append("</tbody></table><form method=\"post\" action=\"/ops/risk/caps\">");
        ConsolePages.Csrf(html, session);
        Input(html, "merchantId", "Merchant id (15 digits)", "");
        Input(html, "currency", "Currency", OrderRules.Cny);
        Input(html, "perPaymentMinor", "Cap per payment, minor units (blank: none)", "");
        Input(html, "perDayMinor", "Cap per day, minor units (blank: none)", "");
        html.Append("<br><button class=\"primary\" type=\"submit\" id=\"set-caps\">Set caps</button></form>");

        html.Append("<h2>Block list</h2><table id=\"blocks\"><thead><tr><th>Kind</th><th>Card or network</th><th>Reason</th><th>By</th><th>Since</th><th></th></tr></thead><tbody>");
        foreach (var b in await risk.BlocksAsync(ct))
        {
            html.Append("<tr id=\"block-").Append(b.BlockId).Append("\"><td>").Append(ConsolePages.E(b.Kind)).Append("</td><td>").Append(ConsolePages.E(b.What))
                .Append("</td><td>").Append(ConsolePages.E(b.Reason)).Append("</td><td>").Append(ConsolePages.E(b.CreatedBy)).Append("</td><td>")
                .Append(ConsolePages.Time(b.CreatedAt)).Append("</td><td><form method=\"post\" action=\"/ops/risk/blocks/").Append(b.BlockId).Append("/remove\">");
            ConsolePages.Csrf(html, session);
            html.Append("<button type=\"submit\">Lift</button></form></td></tr>");
        }
        html.Append("</tbody></table><form method=\"post\" action=\"/ops/risk/blocks/card\" autocomplete=\"off\">");
        ConsolePages.Csrf(html, session);
        Input(html, "pan", "Card number (hashed at once, never kept)", "");
        Input(html, "reason", "Reason", "", "card-reason");
        html.Append("<br><button class=\"primary\" type=\"submit\" id=\"block-card\">Block the card</button></form><form method=\"post\" action=\"/ops/risk/blocks/network\">");
        ConsolePages.Csrf(html, session);
        Input(html, "network", "Network (address or CIDR prefix, IPv4 or IPv6)", "");
        Input(html, "reason", "Reason", "", "network-reason");
        html.Append("<br><button class=\"primary\" type=\"submit\" id=\"block-network\">Block the network</button></form>");

        html.Append("<h2>Refusals</h2><form class=\"filters\" method=\"get\" action=\"/ops/risk\">");
        ConsolePages.Field(html, "merchant", "Merchant", merchantFilter, "text");
        ConsolePages.Select(html, "rule", "Rule", ["", .. RiskCodes.All], ruleFilter);
        html.Append("<button class=\"primary\" type=\"submit\">Show</button></form>");
        if (merchantFilter.Length > 0 && !OrderRules.MerchantId().IsMatch(merchantFilter) || ruleFilter.Length > 0 && !RiskCodes.All.Contains(ruleFilter))
        {
            html.Append("<p class=\"error\" role=\"alert\">The merchant is 15 digits and the rule one of the list.</p>");
            return ConsolePages.Finish(html, StatusCodes.Status400BadRequest);
        }
        var refusals = await risk.RefusalsAsync(Blank(merchantFilter), Blank(ruleFilter), RiskRules.RefusalsListed, ct);
        Refusals(html, refusals, withMerchant: true);
        return ConsolePages.Finish(html, statusCode);
    }

    private static string? Blank(string text) => text.Length == 0 ? null : text;

    /// <summary>The refusals' table, for both consoles: the operator's also names the merchant and the consumer's network.</summary>
    public static void Refusals(StringBuilder html, IReadOnlyList<RefusedAttempt> refusals, bool withMerchant)
    {
        html.Append("<table id=\"refusals\"><thead><tr><th>When</th>").Append(withMerchant ? "<th>Merchant</th>" : "")
            .Append("<th>Order</th><th>Rule</th><th class=\"num\">Amount</th><th>Card</th>").Append(withMerchant ? "<th>Network</th>" : "").Append("</tr></thead><tbody>");
        foreach (var r in refusals)
        {
            html.Append("<tr><td>").Append(ConsolePages.Time(r.RefusedAt)).Append("</td>");
            if (withMerchant)
            {
                html.Append("<td>").Append(ConsolePages.E(r.MerchantId)).Append("</td>");
            }
            html.Append("<td>").Append(ConsolePages.E(r.OrderId)).Append("</td><td class=\"rule\">").Append(ConsolePages.E(r.Rule)).Append("</td><td class=\"num\">")
                .Append(ConsolePages.E(PageFormat.Invariant(r.AmountMinor, r.Currency))).Append("</td><td>").Append(ConsolePages.E(r.PanMasked ?? "")).Append("</td>");
            if (withMerchant)
            {
                html.Append("<td>").Append(ConsolePages.E(r.Network ?? "")).Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
    }

    public static void Input(StringBuilder html, string name, string label, string value, string? id = null) =>
        html.Append("<label for=\"").Append(id ?? name).Append("\">").Append(ConsolePages.E(label)).Append("</label><input id=\"").Append(id ?? name).Append("\" name=\"")
            .Append(name).Append("\" value=\"").Append(ConsolePages.E(value)).Append("\" maxlength=\"64\">");
}
