using Mesh.Contracts.Hsm;

namespace Mesh.Hsm.Access;

/// <summary>
/// Least privilege: each caller of the Hsm has a role, and a role a list of the commands it may
/// run. The gateway cannot verify PINs, and only an operator generates keys, forms them from
/// components and manages the LMK. Zone keys travel between the switch and a bank under their ZMK
/// as host commands (payShield A6 and A8): a bank exports its ZPK and ZAK, the switch imports
/// them, and neither moves any other kind of key (<see cref="MayExchange"/>).
/// </summary>
public static class CallerPolicy
{
    public const string Gateway = "gateway";
    public const string Switch = "switch";
    public const string Issuer = "issuer";
    public const string Settlement = "settlement";
    public const string Operator = "operator";

    private static readonly HashSet<string> KeyManagement =
        ["GenerateKey", "FormKeyFromComponents", "ImportKey", "ExportKey", "RotateLmk", "EraseOldLmk"];

    private static readonly Dictionary<string, HashSet<string>> Allowed = new(StringComparer.Ordinal)
    {
        [Gateway] = ["Diagnostics", "KeyCheckValue", "GetPublicKey", "TranslatePinFromBrowser", "GenerateMac", "VerifyMac", "EncryptData", "DecryptData", "LookupHash", "Sign", "Verify", "OpenEnvelopeKey"],
        [Switch] = ["Diagnostics", "KeyCheckValue", "TranslatePin", "GenerateMac", "VerifyMac", "ImportKey"],
        [Issuer] = ["Diagnostics", "KeyCheckValue", "ExportKey", "VerifyPin", "GeneratePinVerificationValue", "EncryptClearPin", "GenerateCvv", "VerifyCvv", "GenerateMac", "VerifyMac", "EncryptData", "DecryptData", "LookupHash"],
        [Settlement] = ["Diagnostics", "KeyCheckValue", "GetPublicKey", "Sign", "Verify"],
        [Operator] = ["Diagnostics", "KeyCheckValue", "GetPublicKey", .. KeyManagement],
    };

    public static bool IsKnownRole(string role) => Allowed.ContainsKey(role);

    public static bool May(string role, string command) => Allowed.TryGetValue(role, out var commands) && commands.Contains(command);

    /// <summary>
    /// Which keys a caller may import or export under a ZMK: an operator any that travels, every
    /// other role only zone keys (ZPK and ZAK).
    /// </summary>
    public static bool MayExchange(string role, KeyType type) =>
        role == Operator || type is KeyType.Zpk or KeyType.Zak;

    /// <summary>Commands whose every use, allowed or refused, goes to the audit log.</summary>
    public static bool IsKeyManagement(string command) => KeyManagement.Contains(command);
}
