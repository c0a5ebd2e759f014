using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Switch;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The operator console's Banks page (<c>/ops/banks</c>): every bank at the end of a switch link,
/// the ZMK its keys travel under, the check values of the zone keys the switch holds for it, and
/// the BINs routed to it. A platform admin onboards a bank from its key sheet: the ZPK and ZAK
/// under the ZMK with their check values, and its BIN ranges. The switch has the Hsm import the
/// keys (a check value that does not match refuses them) before it routes a single card.
/// </summary>
public static class OperatorBanksPages
{
    /// <summary>What the switch allows (50), and one more so that a list too long is told so rather than cut.</summary>
    private const int IssuerBinsMax = 50;

    public static RouteGroupBuilder MapBanks(this RouteGroupBuilder signedIn)
    {
        signedIn.MapGet("/banks", async (HttpContext http, OperatorSwitchClient cardSwitch, CancellationToken ct) =>
            await PageAsync(ConsoleAuthentication.Session(http), cardSwitch, null, null, null, StatusCodes.Status200OK, ct));
        signedIn.MapPost("/banks", OnboardAsync).RequireAuthorization(ConsolePolicies.PlatformAdmin);
        return signedIn;
    }

    private static async Task<IResult> OnboardAsync(HttpContext http, OperatorSwitchClient cardSwitch, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var issuer = form["issuer"].ToString();
        var request = new OnboardIssuerRequest { Issuer = issuer };
        request.Bins.AddRange(form["bins"].ToString().Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries).Take(IssuerBinsMax + 1));
        var problems = new List<string>();
        request.Zpk = KeyFrom(form["zpk"], form["zpkCheckValue"], "ZPK", problems);
        request.Zak = KeyFrom(form["zak"], form["zakCheckValue"], "ZAK", problems);
        if (problems.Count > 0)
        {
            return await PageAsync(session, cardSwitch, null, string.Join("; ", problems), form, StatusCodes.Status400BadRequest, ct);
        }
        try
        {
            var link = await cardSwitch.OnboardIssuerAsync(request, cancellationToken: ct);
            await accounts.AuditAsync(session, "bank-onboarded",
                $"{link.Issuer} ({link.BankId}): ZPK {link.ZpkCheckValue}, ZAK {link.ZakCheckValue}, BINs {string.Join(",", link.Bins)}", ct);
            return await PageAsync(session, cardSwitch,
                $"{link.Issuer} ({link.BankId}) is onboarded: ZPK check value {link.ZpkCheckValue}, ZAK check value {link.ZakCheckValue}, BINs {string.Join(", ", link.Bins)}.",
                null, null, StatusCodes.Status200OK, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            await accounts.AuditAsync(session, "bank-onboarding-refused", $"{issuer}: {ex.Status.Detail}", ct);
            return await PageAsync(session, cardSwitch, null, ex.Status.Detail, form, StatusCodes.Status400BadRequest, ct);
        }
    }

    /// <summary>
    /// A zone key from the sheet: a TR-31 key block (letters and digits, starting with its version
    /// D), or, for a bank configured for the 3DES form, a cryptogram of 32 hex digits.
    /// </summary>
    private static ZoneKeyUnderZmk KeyFrom(string? entered, string? checkValue, string name, List<string> problems)
    {
        var text = (entered ?? "").Replace(" ", "", StringComparison.Ordinal).Trim();
        var kcv = (checkValue ?? "").Trim().ToUpperInvariant();
        if (kcv.Length != 6 || !kcv.All(char.IsAsciiHexDigit))
        {
            problems.Add($"the {name} check value is 6 hex digits");
        }
        if (text.Length == 32 && text.All(char.IsAsciiHexDigit))
        {
            return new ZoneKeyUnderZmk { Cryptogram = ByteString.CopyFrom(Convert.FromHexString(text)), CheckValue = kcv };
        }
        if (text.Length is > 16 and <= KeyBlockCharsMax && text[0] == 'D' && text.All(char.IsAsciiLetterOrDigit))
        {
            return new ZoneKeyUnderZmk { KeyBlock = text, CheckValue = kcv };
        }
        problems.Add($"the {name} under the ZMK is a TR-31 key block (version D) or a cryptogram of 32 hex digits");
        return new ZoneKeyUnderZmk();
    }

    private const int KeyBlockCharsMax = 512;

    private static async Task<IResult> PageAsync(ConsoleSession session, OperatorSwitchClient cardSwitch, string? message, string? error,
        IFormCollection? entered, int statusCode, CancellationToken ct)
    {
        var html = ConsolePages.Layout(session, "Banks");
        html.Append("<h1>Issuing banks</h1>");
        ConsolePages.Messages(html, message, error);
        ListLinksReply links;
        try
        {
            links = await cardSwitch.ListLinksAsync(new ListLinksRequest(), cancellationToken: ct);
        }
        catch (RpcException ex)
        {
            html.Append("<p class=\"error\" role=\"alert\">The switch does not answer: ").Append(ConsolePages.E(ex.Status.Detail)).Append("</p>");
            return ConsolePages.Finish(html, StatusCodes.Status503ServiceUnavailable);
        }
        html.Append("<table id=\"banks\"><thead><tr><th>Bank</th><th>Institution</th><th>Link</th><th>ZMK</th><th>ZPK check value</th><th>ZAK check value</th>")
            .Append("<th>BINs routed</th></tr></thead><tbody>");
        foreach (var link in links.Links)
        {
            html.Append("<tr id=\"bank-").Append(ConsolePages.E(link.Issuer)).Append("\"><td>").Append(ConsolePages.E(link.Issuer)).Append("</td><td>")
                .Append(ConsolePages.E(link.BankId)).Append("</td><td>").Append(link.SignedOn ? "signed on" : "signed off").Append("</td><td>")
                .Append(ConsolePages.E(link.ZmkId)).Append("</td><td class=\"kcv\">").Append(CheckValue(link.ZpkCheckValue)).Append("</td><td class=\"kcv\">")
                .Append(CheckValue(link.ZakCheckValue)).Append("</td><td class=\"bins\">")
                .Append(link.Bins.Count > 0 ? ConsolePages.E(string.Join(", ", link.Bins)) : "none: not onboarded").Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        if (session.Role == ConsoleRoles.PlatformAdmin)
        {
            string Entered(string name) => ConsolePages.E(entered?[name].ToString() ?? "");
            html.Append("<h1>Onboard a bank</h1><p>From the bank's key sheet: its zone keys encrypted under the ZMK it shares with the platform, each with its ")
                .Append("check value, and its card ranges. The Hsm imports the keys only if their check values match.</p>")
                .Append("<form method=\"post\" action=\"/ops/banks\">");
            ConsolePages.Csrf(html, session);
            ConsolePages.Select(html, "issuer", "Link", links.Links.Select(l => l.Issuer), entered?["issuer"].ToString()
                ?? links.Links.FirstOrDefault(l => l.Bins.Count == 0)?.Issuer ?? "");
            html.Append("<label for=\"bins\">BIN prefixes (6 to 11 digits, separated by commas)</label><input id=\"bins\" name=\"bins\" maxlength=\"600\" required value=\"")
                .Append(Entered("bins")).Append("\">")
                .Append("<label for=\"zpk\">ZPK under the ZMK (TR-31 key block)</label><input id=\"zpk\" name=\"zpk\" maxlength=\"512\" required autocomplete=\"off\" value=\"")
                .Append(Entered("zpk")).Append("\">")
                .Append("<label for=\"zpkCheckValue\">ZPK check value</label><input id=\"zpkCheckValue\" name=\"zpkCheckValue\" maxlength=\"6\" required value=\"")
                .Append(Entered("zpkCheckValue")).Append("\">")
                .Append("<label for=\"zak\">ZAK under the ZMK (TR-31 key block)</label><input id=\"zak\" name=\"zak\" maxlength=\"512\" required autocomplete=\"off\" value=\"")
                .Append(Entered("zak")).Append("\">")
                .Append("<label for=\"zakCheckValue\">ZAK check value</label><input id=\"zakCheckValue\" name=\"zakCheckValue\" maxlength=\"6\" required value=\"")
                .Append(Entered("zakCheckValue")).Append("\">")
                .Append("<br><button class=\"primary\" type=\"submit\" id=\"onboard-bank\">Import keys and route</button></form>");
        }
        return ConsolePages.Finish(html, statusCode);
    }

    private static string CheckValue(string kcv) => kcv.Length > 0 ? ConsolePages.E(kcv) : "not exchanged";
}
