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
        var problems = new List<string>();
        if (!GateCodes.IsGateId(gateId))
        {
            problems.Add("the gate code is 4 digits");
        }
        if (!GateCodes.IsBankName(bankName))
        {
            problems.Add($"the bank's name is 1 to {GateCodes.BankNameCharsMax} characters, without control characters");
        }
        if (problems.Count > 0)
        {
            return await PageAsync(session, gates, null, string.Join("; ", problems), StatusCodes.Status400BadRequest, ct);
        }
        var code = await gates.AddAsync(gateId, bankName, ct);
        await accounts.AuditAsync(session, "gate-code-added", $"{code.GateId} {code.BankName}: enabled", ct);
        return await PageAsync(session, gates, $"{code.GateId} ({code.BankName}) is enabled.", null, StatusCodes.Status200OK, ct);
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
            return await PageAsync(session, gates, null, $"{code.GateId} is the last enabled gate code: consumers need one bank to choose.",
                StatusCodes.Status409Conflict, ct);
        }
        await accounts.AuditAsync(session, "gate-code-disabled", $"{code.GateId} {code.BankName}: disabled", ct);
        return await PageAsync(session, gates, $"{code.GateId} ({code.BankName}) is disabled: new orders may not name it.", null, StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> PageAsync(ConsoleSession session, GateCodes gates, string? message, string? error, int statusCode, CancellationToken ct)
    {
        var html = ConsolePages.Layout(session, "Gate codes");
        html.Append("<h1>Gate codes</h1><p>The banks a consumer may choose (NetPay's <code>GateId</code>): an order may name an enabled code, and the ")
            .Append("payment page lists them. The switch routes by card number whatever is chosen.</p>");
        ConsolePages.Messages(html, message, error);
        var admin = session.Role == ConsoleRoles.PlatformAdmin;
        html.Append("<table id=\"gates\"><thead><tr><th>Gate code</th><th>Bank</th><th>State</th><th>Since</th>").Append(admin ? "<th></th>" : "")
            .Append("</tr></thead><tbody>");
        foreach (var gate in await gates.ListAsync(ct))
        {
            html.Append("<tr id=\"gate-").Append(ConsolePages.E(gate.GateId)).Append("\"><td>").Append(ConsolePages.E(gate.GateId)).Append("</td><td>")
                .Append(ConsolePages.E(gate.BankName)).Append("</td><td class=\"gate-state\">").Append(gate.Enabled ? "enabled" : "disabled").Append("</td><td>")
                .Append(ConsolePages.Time(gate.UpdatedAt)).Append("</td>");
            if (admin)
            {
                html.Append("<td>");
                if (gate.Enabled)
                {
                    html.Append("<form method=\"post\" action=\"/ops/gates/").Append(ConsolePages.E(gate.GateId)).Append("/disable\">");
                    ConsolePages.Csrf(html, session);
                    html.Append("<button type=\"submit\">Disable</button></form>");
                }
                html.Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        if (admin)
        {
            html.Append("<h1>Add a gate code</h1><p>A code that is there is enabled again, under the name given.</p><form method=\"post\" action=\"/ops/gates\">");
            ConsolePages.Csrf(html, session);
            html.Append("<label for=\"gateId\">Gate code (4 digits)</label><input id=\"gateId\" name=\"gateId\" maxlength=\"4\" inputmode=\"numeric\" required>")
                .Append("<label for=\"bankName\">Bank</label><input id=\"bankName\" name=\"bankName\" maxlength=\"").Append(GateCodes.BankNameCharsMax)
                .Append("\" required><br><button class=\"primary\" type=\"submit\" id=\"add-gate\">Add or enable</button></form>");
        }
        return ConsolePages.Finish(html, statusCode);
    }
}
