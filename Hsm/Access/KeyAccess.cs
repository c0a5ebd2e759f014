using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Access;

/// <summary>
/// The second half of every authorization: the caller's role may run the command
/// (<see cref="CallerPolicy"/>), and each key the command names must be owned by that caller for
/// the use the command makes of it (<see cref="KeyPolicy"/>, bound into the key block). Anyone
/// else's use is refused with K3, whatever the role. An operator reads check values and public
/// keys of every key and moves zone keys under ZMKs, and uses no key for transactions; a use the
/// key's TR-31 block forbade (<see cref="KeyPolicy.Forbidden"/>) is refused to the operator too.
/// </summary>
public sealed class KeyAccess(IKeyStore keys)
{
    /// <summary>The keys a command names and the use it makes of each; none for commands that name no key.</summary>
    public static IReadOnlyList<(string KeyId, KeyUse Use)> UsesOf(object request) => request switch
    {
        TranslatePinRequest r => [(r.SourceZpkId, KeyUse.PinDecrypt), (r.DestinationZpkId, KeyUse.PinEncrypt)],
        TranslatePinFromBrowserRequest r => [(r.TransportKeyId, KeyUse.PinTransport), (r.DestinationZpkId, KeyUse.PinEncrypt)],
        EncryptClearPinRequest r => [(r.ZpkId, KeyUse.PinEncrypt)],
        VerifyPinRequest r => [(r.ZpkId, KeyUse.PinDecrypt), (r.Verification?.PvkId ?? "", KeyUse.PinVerification)],
        GeneratePinVerificationValueRequest r => [(r.ZpkId, KeyUse.PinDecrypt), (r.Verification?.PvkId ?? "", KeyUse.PinVerification)],
        GenerateMacRequest r => [(r.KeyId, KeyUse.MacGenerate)],
        VerifyMacRequest r => [(r.KeyId, KeyUse.MacVerify)],
        GenerateCvvRequest r => [(r.CvkId, KeyUse.CvvGenerate)],
        VerifyCvvRequest r => [(r.CvkId, KeyUse.CvvVerify)],
        EncryptDataRequest r => [(r.DekId, KeyUse.DataEncrypt)],
        DecryptDataRequest r => [(r.DekId, KeyUse.DataDecrypt)],
        LookupHashRequest r => [(r.DekId, KeyUse.LookupHash)],
        SignRequest r => [(r.KeyId, KeyUse.Sign)],
        // An inline public key (no key id) names no held key.
        VerifyRequest { KeyId.Length: 0 } => [],
        VerifyRequest r => [(r.KeyId, KeyUse.SignatureVerify)],
        OpenEnvelopeKeyRequest r => [(r.KeyId, KeyUse.EnvelopeOpen)],
        ExportKeyRequest r => [(r.KeyId, KeyUse.Export), (r.ZmkId, KeyUse.Wrap)],
        // The next version of a key goes into the caller's own key id, under the ZMK it unwraps with.
        ImportKeyRequest { NextVersion: true } r => [(r.ZmkId, KeyUse.Unwrap), (r.KeyId, KeyUse.Unspecified)],
        ImportKeyRequest r => [(r.ZmkId, KeyUse.Unwrap)],
        GenerateKeyVersionRequest r => [(r.KeyId, KeyUse.Unspecified), (r.ZmkId, KeyUse.Wrap)],
        ActivateKeyVersionRequest r => [(r.KeyId, KeyUse.Unspecified)],
        DiscardKeyVersionRequest r => [(r.KeyId, KeyUse.Unspecified)],
        RotateKeyPairRequest r => [(r.KeyId, KeyUse.Unspecified)],
        // Reading a check value or a public key is any use by an owner.
        KeyCheckValueRequest r => [(r.KeyId, KeyUse.Unspecified)],
        GetPublicKeyRequest r => [(r.KeyId, KeyUse.Unspecified)],
        _ => [],
    };

    /// <summary>Throws K3 for the first key the caller may not use as the command would; K1 for a key that does not exist.</summary>
    public async Task CheckAsync(string caller, string role, object request, CancellationToken ct)
    {
        var operatorMayReadOrMove = CallerPolicy.Has(role, CallerPolicy.Operator)
            && request is KeyCheckValueRequest or GetPublicKeyRequest or ExportKeyRequest or ImportKeyRequest
                or GenerateKeyVersionRequest or ActivateKeyVersionRequest or DiscardKeyVersionRequest or RotateKeyPairRequest
            || CallerPolicy.Has(role, CallerPolicy.PlatformKeys) && request is KeyCheckValueRequest or GetPublicKeyRequest or RotateKeyPairRequest;
        foreach (var (keyId, use) in UsesOf(request))
        {
            if (operatorMayReadOrMove && use != KeyUse.Export)
            {
                continue;
            }
            KeyStore.CheckKeyId(keyId);
            var key = await keys.GetAsync(keyId, ct);
            if (key.Policy.Forbidden.Contains(use))
            {
                throw new HsmException(HsmErrorCode.KeyNotPermitted, $"{keyId} came in a key block that forbids {use}, to every caller", keyId);
            }
            if (operatorMayReadOrMove)
            {
                continue;
            }
            var allowed = use == KeyUse.Unspecified ? key.Policy.IsOwnedBy(caller) : key.Policy.Allows(caller, use);
            if (!allowed)
            {
                throw new HsmException(HsmErrorCode.KeyNotPermitted,
                    use == KeyUse.Unspecified ? $"{keyId} is not {caller}'s key" : $"{keyId} does not serve {caller} for {use}", keyId);
            }
        }
    }

    /// <summary>
    /// Who may use an imported key. An operator states it. A service importing a zone key under a ZMK
    /// it owns (the switch, from a bank) gets the receiving end's uses and no more: PINs in under a
    /// ZPK (translated to the bank), MACs under a ZAK; the id must be of the ZMK's link
    /// (<c>issuer-boc.zpk</c> under <c>issuer-boc.zmk</c>), so no import takes another link's id.
    /// Either policy is then narrowed by a TR-31 block's mode of use and exportability
    /// (<see cref="Commands.KeyManagement.ImportAsync"/>): a stated policy is never wider than the block.
    /// </summary>
    public static KeyPolicy ImportPolicy(ImportKeyRequest request, string caller, string role)
    {
        if (CallerPolicy.Has(role, CallerPolicy.Operator))
        {
            return KeyPolicy.FromProto(request.Owners);
        }
        if (request.Owners.Count > 0)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "only an operator states an imported key's owners");
        }
        CheckKeyOfLink(request.ZmkId, request.KeyId);
        return request.KeyType == KeyType.Zpk
            ? KeyPolicy.Of([(caller, [KeyUse.PinEncrypt])])
            : KeyPolicy.Of([(caller, [KeyUse.MacGenerate, KeyUse.MacVerify])]);
    }

    /// <summary>A key that travels under a link's ZMK (<c>issuer-boc.zmk</c>) is one of that link's (<c>issuer-boc.…</c>): no key of another link moves under it.</summary>
    public static void CheckKeyOfLink(string zmkId, string keyId)
    {
        var link = zmkId.EndsWith(".zmk", StringComparison.Ordinal) ? zmkId[..^".zmk".Length] + "." : null;
        if (link is null || !keyId.StartsWith(link, StringComparison.Ordinal) || keyId.Length == link.Length)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"a key that travels under {zmkId} takes an id of its link ({link}…)");
        }
    }
}
