using Mesh.Gateway.Localization;
using Mesh.Gateway.Orders;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The operator console's Gate codes page (<c>/ops/gates</c>): the banks a consumer may choose
/// (NetPay's GateId), which orders may name and the payment page lists. A platform admin adds a
/// code (or enables and renames one that is there) and disables one; each change is audited. The
/// signed-in filter checks the form's antiforgery token, as on every console form.
/// </summary>
public static class OperatorGatesPages
{
    public static RouteGroupBuilder MapGates(this RouteGroupBuilder signedIn)
    {
        signedIn.MapGet("/gates", async (HttpContext http, GateCodes gates, CancellationToken ct) =>
            await PageAsync(ConsoleAuthentication.Session(http), gates, null, null, StatusCodes.Status200OK, ct));
        signedIn.MapPost("/gates", AddAsync).RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapPost("/gates/{gateId}/disable", DisableAsync).RequireAuthorization(ConsolePolicies.PlatformAdmin);
        return signedIn;
    }

    private static async Task<IResult> AddAsync(HttpContext http, GateCodes gates, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var (gateId, bankName) = (form["gateId"].ToString().Trim(), form["bankName"].ToString().Trim());
        var problems = new List<Words>();
        if (!GateCodes.IsGateId(gateId))
        {
            problems.Add("the gate code is 4 digits");
        }
        if (!GateCodes.IsBankName(bankName))
        {
            problems.Add(new Words("the bank's name is 1 to {0} characters, without control characters", GateCodes.BankNameCharsMax));
        }
        if (problems.Count > 0)
        {
            return await PageAsync(session, gates, null, Words.List(problems), StatusCodes.Status400BadRequest, ct);
        }
        var code = await gates.AddAsync(gateId, bankName, ct);
        await accounts.AuditAsync(session, "gate-code-added", $"{code.GateId} {code.BankName}: enabled", ct);
        return await PageAsync(session, gates, new Words("{0} ({1}) is enabled.", code.GateId, code.BankName), null, StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> DisableAsync(HttpContext http, string gateId, GateCodes gates, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var (outcome, code) = GateCodes.IsGateId(gateId) ? await gates.DisableAsync(gateId, ct) : (GateCodes.Disabling.NoSuchCode, null);
        if (outcome == GateCodes.Disabling.NoSuchCode || code is null)
        {
            return await PageAsync(session, gates, null, "No such gate code.", StatusCodes.Status404NotFound, ct);
        }
        if (outcome == GateCodes.Disabling.LastEnabled)
        {
            return await PageAsync(session, gates, null, new Words("{0} is the last enabled gate code: consumers need one bank to choose.", code.GateId),
                StatusCodes.Status409Conflict, ct);
        }
        await accounts.AuditAsync(session, "gate-code-disabled", $"{code.GateId} {code.BankName}: disabled", ct);
        return await PageAsync(session, gates, new Words("{0} ({1}) is disabled: new orders may not name it.", code.GateId, code.BankName), null, StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> PageAsync(ConsoleSession session, GateCodes gates, Words? message, Words? error, int statusCode, CancellationToken ct) =>
        OperatorPage.Of<Components.Operator.GatesPage>(statusCode, (nameof(Components.Operator.GatesPage.Session), session),
            (nameof(Components.Operator.GatesPage.Gates), await gates.ListAsync(ct)), (nameof(Components.Operator.GatesPage.Message), message),
            (nameof(Components.Operator.GatesPage.Error), error));
}
