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
        return await PageAsync(session, accounts, $"{realm}/{operatorId} is signed out everywhere ({ended} session{(ended == 1 ? "" : "s")} ended).", null,
            StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> PageAsync(ConsoleSession session, ConsoleAccounts accounts, string? message, string? error, int statusCode,
        CancellationToken ct)
    {
        var html = ConsolePages.Layout(session, "Sessions");
        html.Append("<h1>Signed in now</h1>");
        ConsolePages.Messages(html, message, error);
        var admin = session.Role == ConsoleRoles.PlatformAdmin;
        html.Append("<table id=\"sessions\"><thead><tr><th>Merchant or platform</th><th>Operator</th><th>Role</th><th class=\"num\">Sessions</th><th>Last seen</th>")
            .Append(admin ? "<th></th>" : "").Append("</tr></thead><tbody>");
        foreach (var s in await accounts.SignedInAsync(RowsMax, ct))
        {
            html.Append("<tr><td>").Append(ConsolePages.E(s.Realm)).Append("</td><td>").Append(ConsolePages.E(s.OperatorId)).Append("</td><td>")
                .Append(ConsolePages.E(s.Role)).Append("</td><td class=\"num\">").Append(s.Sessions).Append("</td><td>").Append(ConsolePages.Time(s.LastSeenAt)).Append("</td>");
            if (admin)
            {
                html.Append("<td><form method=\"post\" action=\"/ops/sessions/revoke\">");
                ConsolePages.Csrf(html, session);
                html.Append("<input type=\"hidden\" name=\"realm\" value=\"").Append(ConsolePages.E(s.Realm)).Append("\"><input type=\"hidden\" name=\"operatorId\" value=\"")
                    .Append(ConsolePages.E(s.OperatorId)).Append("\"><button type=\"submit\">Sign out everywhere</button></form></td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        return ConsolePages.Finish(html, statusCode);
    }
}
