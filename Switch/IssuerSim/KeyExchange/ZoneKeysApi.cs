using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.IssuerSim.Options;
using Mesh.ServiceDefaults.Access;
using Microsoft.Extensions.Options;

namespace Mesh.IssuerSim.KeyExchange;

/// <summary>
/// One zone key as it travels: a TR-31 key block under the ZMK (or, for a bank configured for it,
/// the hex of a bare cryptogram), and the clear key's check value.
/// </summary>
public sealed record ZoneKeyUnderZmk(string? KeyBlock, string? CryptogramHex, string CheckValue);

/// <summary>The key sheet a bank's security officer hands the platform: the ZMK it is under, both zone keys and the card ranges.</summary>
public sealed record ZoneKeySheet(string BankId, string BankName, string ZmkId, ZoneKeyUnderZmk Zpk, ZoneKeyUnderZmk Zak, IReadOnlyList<string> Bins);

/// <summary>
/// The bank's side of joining the network: <c>POST /admin/zone-keys/export</c> has the Hsm export
/// the bank's ZPK and ZAK under the ZMK it shares with the platform (payShield A8), and answers the
/// key sheet the platform's operator enters in the operator console. A cryptogram under a ZMK and
/// a check value are what key exchange puts on paper; neither reveals the key. An operator's
/// credential only.
/// </summary>
public static class ZoneKeysApi
{
    public static WebApplication MapZoneKeys(this WebApplication app)
    {
        app.MapPost("/admin/zone-keys/export", async (Hsm.HsmClient hsm, IOptions<BankOptions> options, CancellationToken ct) =>
        {
            var bank = options.Value;
            if (bank.ZmkId.Length == 0)
            {
                return Results.Problem("Bank:ZmkId is not configured: this bank shares no ZMK with the platform", statusCode: StatusCodes.Status409Conflict,
                    title: "No ZMK");
            }
            try
            {
                return Results.Ok(new ZoneKeySheet(bank.Id, bank.Name, bank.ZmkId, await ExportAsync(hsm, bank, bank.ZpkId, ct),
                    await ExportAsync(hsm, bank, bank.ZakId, ct), bank.Bins));
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.PermissionDenied or StatusCode.InvalidArgument)
            {
                return Results.Problem(ex.Status.Detail, statusCode: StatusCodes.Status409Conflict, title: "The Hsm did not export the zone keys");
            }
        }).RequireMeshCaller(MeshRoles.Operator);
        return app;
    }

    private static async Task<ZoneKeyUnderZmk> ExportAsync(Hsm.HsmClient hsm, BankOptions bank, string keyId, CancellationToken ct)
    {
        var cryptogram = bank.KeyExchange == "cryptogram";
        var exported = await hsm.ExportKeyAsync(new ExportKeyRequest
        {
            KeyId = keyId,
            ZmkId = bank.ZmkId,
            Format = cryptogram ? KeyExchangeFormat.Cryptogram : KeyExchangeFormat.Tr31,
        }, cancellationToken: ct);
        return cryptogram
            ? new ZoneKeyUnderZmk(null, Convert.ToHexString(exported.Cryptogram.Span), exported.CheckValue)
            : new ZoneKeyUnderZmk(exported.KeyBlock, null, exported.CheckValue);
    }
}
