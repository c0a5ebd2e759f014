using System.Globalization;
using Grpc.Core;
using Mesh.Gateway.Localization;
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

    private static async Task<IResult> RotateAsync(HttpContext http, string keyId, PlatformKeyRotation rotation, ConsoleAccounts accounts, PageFormat format,
        CancellationToken ct)
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
            return await PageAsync(session, rotation, null, new Words("The overlap is 0 to {0} seconds, and the form names the current version.", PlatformKeyRotation.OverlapSecondsMax),
                StatusCodes.Status400BadRequest, ct);
        }
        try
        {
            var info = await rotation.RotateAsync(keyId, currentCheckValue, overlapSeconds, session.OperatorId, ct);
            var retiresAt = DateTimeOffset.FromUnixTimeMilliseconds(info.PreviousRetiresAtUnixMs);
            await accounts.AuditAsync(session, "platform-key-rotated",
                $"{keyId}: {info.PreviousCheckValue} -> {info.CheckValue}, the previous version retires at {retiresAt:O}", ct);
            return await PageAsync(session, rotation, new Words("{0} is now {1}; {2} is accepted until {3}.", keyId, info.CheckValue, info.PreviousCheckValue, format.ChinaTime(retiresAt)),
                null, StatusCodes.Status200OK, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            return await PageAsync(session, rotation, null, new Words("{0}: {1}", keyId, PlatformKeyRotation.Refusal(ex)), StatusCodes.Status409Conflict, ct);
        }
    }

    private static async Task<IResult> PageAsync(ConsoleSession session, PlatformKeyRotation rotation, Words? message, Words? error, int statusCode,
        CancellationToken ct) =>
        OperatorPage.Of<Components.Operator.KeysPage>(statusCode, (nameof(Components.Operator.KeysPage.Session), session),
            (nameof(Components.Operator.KeysPage.Keys), await rotation.ListAsync(ct)), (nameof(Components.Operator.KeysPage.Message), message),
            (nameof(Components.Operator.KeysPage.Error), error));
}
