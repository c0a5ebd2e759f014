using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Switch;
using Mesh.Gateway.Localization;

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
        var problems = new List<Words>();
        request.Zpk = KeyFrom(form["zpk"], form["zpkCheckValue"], "ZPK", problems);
        request.Zak = KeyFrom(form["zak"], form["zakCheckValue"], "ZAK", problems);
        if (problems.Count > 0)
        {
            return await PageAsync(session, cardSwitch, null, Words.List(problems), form, StatusCodes.Status400BadRequest, ct);
        }
        try
        {
            var link = await cardSwitch.OnboardIssuerAsync(request, cancellationToken: ct);
            await accounts.AuditAsync(session, "bank-onboarded",
                $"{link.Issuer} ({link.BankId}): ZPK {link.ZpkCheckValue}, ZAK {link.ZakCheckValue}, BINs {string.Join(",", link.Bins)}", ct);
            return await PageAsync(session, cardSwitch,
                new Words("{0} ({1}) is onboarded: ZPK check value {2}, ZAK check value {3}, BINs {4}.", link.Issuer, link.BankId, link.ZpkCheckValue, link.ZakCheckValue,
                    string.Join(", ", link.Bins)),
                null, null, StatusCodes.Status200OK, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            await accounts.AuditAsync(session, "bank-onboarding-refused", $"{issuer}: {ex.Status.Detail}", ct);
            return await PageAsync(session, cardSwitch, null, new Words("The switch refused the bank: {0}", ex.Status.Detail), form, StatusCodes.Status400BadRequest, ct);
        }
    }

    /// <summary>
    /// A zone key from the sheet: a TR-31 key block (letters and digits, starting with its version
    /// D), or, for a bank configured for the 3DES form, a cryptogram of 32 hex digits.
    /// </summary>
    private static ZoneKeyUnderZmk KeyFrom(string? entered, string? checkValue, string name, List<Words> problems)
    {
        var text = (entered ?? "").Replace(" ", "", StringComparison.Ordinal).Trim();
        var kcv = (checkValue ?? "").Trim().ToUpperInvariant();
        if (kcv.Length != 6 || !kcv.All(char.IsAsciiHexDigit))
        {
            problems.Add(new Words("the {0} check value is 6 hex digits", name));
        }
        if (text.Length == 32 && text.All(char.IsAsciiHexDigit))
        {
            return new ZoneKeyUnderZmk { Cryptogram = ByteString.CopyFrom(Convert.FromHexString(text)), CheckValue = kcv };
        }
        if (text.Length is > 16 and <= KeyBlockCharsMax && text[0] == 'D' && text.All(char.IsAsciiLetterOrDigit))
        {
            return new ZoneKeyUnderZmk { KeyBlock = text, CheckValue = kcv };
        }
        problems.Add(new Words("the {0} under the ZMK is a TR-31 key block (version D) or a cryptogram of 32 hex digits", name));
        return new ZoneKeyUnderZmk();
    }

    private const int KeyBlockCharsMax = 512;

    private static async Task<IResult> PageAsync(ConsoleSession session, OperatorSwitchClient cardSwitch, Words? message, Words? error,
        IFormCollection? entered, int statusCode, CancellationToken ct)
    {
        var (links, switchError) = ((IReadOnlyList<LinkState>)[], (string?)null);
        try
        {
            links = (await cardSwitch.ListLinksAsync(new ListLinksRequest(), cancellationToken: ct)).Links;
        }
        catch (RpcException ex)
        {
            (switchError, statusCode) = (ex.Status.Detail, StatusCodes.Status503ServiceUnavailable);
        }
        return OperatorPage.Of<Components.Operator.BanksPage>(statusCode, (nameof(Components.Operator.BanksPage.Session), session),
            (nameof(Components.Operator.BanksPage.Links), links), (nameof(Components.Operator.BanksPage.SwitchError), switchError),
            (nameof(Components.Operator.BanksPage.Entered), entered), (nameof(Components.Operator.BanksPage.Message), message),
            (nameof(Components.Operator.BanksPage.Error), error));
    }
}
