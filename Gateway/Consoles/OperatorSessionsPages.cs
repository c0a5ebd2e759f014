using Mesh.Gateway.Localization;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The operator console's Sessions page (<c>/ops/sessions</c>): who is signed in to either console
/// now, one row an operator (a merchant's or the platform's), with how many sessions and when last
/// seen. A platform admin signs an operator out everywhere (a stolen laptop, someone who left): the
/// rows go, and every replica refuses the sessions at their next request. Audited.
/// </summary>
public static class OperatorSessionsPages
{
    public const int RowsMax = 200;

    public static RouteGroupBuilder MapSessions(this RouteGroupBuilder signedIn)
    {
        signedIn.MapGet("/sessions", async (HttpContext http, ConsoleAccounts accounts, CancellationToken ct) =>
            await PageAsync(ConsoleAuthentication.Session(http), accounts, null, null, StatusCodes.Status200OK, ct));
        signedIn.MapPost("/sessions/revoke", RevokeAsync).RequireAuthorization(ConsolePolicies.PlatformAdmin);
        return signedIn;
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var (realm, operatorId) = (form["realm"].ToString(), form["operatorId"].ToString());
        if (realm.Length is 0 or > 15 || operatorId.Length is 0 or > 32)
        {
            return await PageAsync(session, accounts, null, "Choose an operator from the list.", StatusCodes.Status400BadRequest, ct);
        }
        var ended = await accounts.RevokeSessionsAsync(session, realm, operatorId, ct);
        return await PageAsync(session, accounts, ended == 1 ? new Words("{0}/{1} is signed out everywhere (1 session ended).", Words.Label("Realm", realm), operatorId)
            : new Words("{0}/{1} is signed out everywhere ({2} sessions ended).", Words.Label("Realm", realm), operatorId, ended), null,
            StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> PageAsync(ConsoleSession session, ConsoleAccounts accounts, Words? message, Words? error, int statusCode,
        CancellationToken ct) =>
        OperatorPage.Of<Components.Operator.SessionsPage>(statusCode, (nameof(Components.Operator.SessionsPage.Session), session),
            (nameof(Components.Operator.SessionsPage.SignedIn), await accounts.SignedInAsync(RowsMax, ct)), (nameof(Components.Operator.SessionsPage.Message), message),
            (nameof(Components.Operator.SessionsPage.Error), error));
}
