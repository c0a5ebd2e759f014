using System.Globalization;
using Grpc.Core;
using Mesh.Gateway.Platform;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The operator console's Platform keys page (<c>/ops/keys</c>): each platform key pair that rotates,
/// its current version (certId, check value) and the version a rotation replaced with the time it
/// retires. A platform admin rotates one, giving the overlap; each rotation is audited here (who, why)
/// and in the Hsm.
/// </summary>
public static class OperatorKeysPages
{
    public static RouteGroupBuilder MapPlatformKeys(this RouteGroupBuilder signedIn)
    {
        signedIn.MapGet("/keys", async (HttpContext http, PlatformKeyRotation rotation, CancellationToken ct) =>
            await PageAsync(ConsoleAuthentication.Session(http), rotation, null, null, StatusCodes.Status200OK, ct));
        signedIn.MapPost("/keys/{keyId}/rotate", RotateAsync).RequireAuthorization(ConsolePolicies.PlatformAdmin);
        return signedIn;
    }

    private static async Task<IResult> RotateAsync(HttpContext http, string keyId, PlatformKeyRotation rotation, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        if (!PlatformKeyRotation.IsRotatable(keyId))
        {
            return await PageAsync(session, rotation, null, "No such platform key.", StatusCodes.Status404NotFound, ct);
        }
        var form = await http.Request.ReadFormAsync(ct);
        var currentCheckValue = form["currentCheckValue"].ToString();
        if (!int.TryParse(form["overlapSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var overlapSeconds)
            || overlapSeconds is < 0 or > PlatformKeyRotation.OverlapSecondsMax || currentCheckValue.Length is 0 or > 16)
        {
            return await PageAsync(session, rotation, null, $"The overlap is 0 to {PlatformKeyRotation.OverlapSecondsMax} seconds, and the form names the current version.",
                StatusCodes.Status400BadRequest, ct);
        }
        try
        {
            var info = await rotation.RotateAsync(keyId, currentCheckValue, overlapSeconds, session.OperatorId, ct);
            var retiresAt = DateTimeOffset.FromUnixTimeMilliseconds(info.PreviousRetiresAtUnixMs);
            await accounts.AuditAsync(session, "platform-key-rotated",
                $"{keyId}: {info.PreviousCheckValue} -> {info.CheckValue}, the previous version retires at {retiresAt:O}", ct);
            return await PageAsync(session, rotation, $"{keyId} is now {info.CheckValue}; {info.PreviousCheckValue} is accepted until {ConsolePages.Time(retiresAt)}.",
                null, StatusCodes.Status200OK, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            return await PageAsync(session, rotation, null, $"{keyId}: {PlatformKeyRotation.Refusal(ex)}", StatusCodes.Status409Conflict, ct);
        }
    }

    private static async Task<IResult> PageAsync(ConsoleSession session, PlatformKeyRotation rotation, string? message, string? error, int statusCode,
        CancellationToken ct)
    {
        var html = ConsolePages.Layout(session, "Platform keys");
        html.Append("<h1>Platform keys</h1><p>The platform's own key pairs, in the Hsm. A rotation makes a new version that signs (or is sealed to) from ")
            .Append("then on; the replaced version still verifies, opens and reads PINs until its overlap ends, then it is retired. Give the PIN transport ")
            .Append("keys an overlap longer than a payment page lives, and the others long enough for merchants to fetch the new certificate.</p>");
        ConsolePages.Messages(html, message, error);
        var admin = session.Role == ConsoleRoles.PlatformAdmin;
        html.Append("<table id=\"platform-keys\"><thead><tr><th>Key</th><th>Purpose</th><th>Current (certId · check value)</th><th>Previous, until</th>")
            .Append(admin ? "<th>Rotate</th>" : "").Append("</tr></thead><tbody>");
        foreach (var (purpose, versions) in await rotation.ListAsync(ct))
        {
            html.Append("<tr id=\"key-").Append(ConsolePages.E(versions.KeyId)).Append("\"><td>").Append(ConsolePages.E(versions.KeyId)).Append("</td><td>")
                .Append(ConsolePages.E(purpose)).Append("</td><td class=\"key-current\">").Append(ConsolePages.E(versions.Current.CertId)).Append(" · ")
                .Append(ConsolePages.E(versions.Current.CheckValue)).Append("</td><td class=\"key-previous\">")
                .Append(versions.Previous is { } previous ? $"{ConsolePages.E(previous.CertId)} · {ConsolePages.E(previous.CheckValue)} until {ConsolePages.Time(versions.PreviousRetiresAt!.Value)}" : "—")
                .Append("</td>");
            if (admin)
            {
                html.Append("<td><form method=\"post\" action=\"/ops/keys/").Append(ConsolePages.E(versions.KeyId)).Append("/rotate\">");
                ConsolePages.Csrf(html, session);
                html.Append("<input type=\"hidden\" name=\"currentCheckValue\" value=\"").Append(ConsolePages.E(versions.Current.CheckValue)).Append("\">")
                    .Append("<label>Overlap (s) <input name=\"overlapSeconds\" inputmode=\"numeric\" value=\"").Append(PlatformKeyRotation.OverlapSecondsDefault)
                    .Append("\"></label><button type=\"submit\">Rotate</button></form></td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        return ConsolePages.Finish(html, statusCode);
    }
}
