using Mesh.Contracts.Hsm;

namespace Mesh.Hsm.Access;

/// <summary>
/// Least privilege: each caller of the Hsm has a role (or a few, comma-separated), and a role a list
/// of the commands it may run. The gateway cannot verify PINs; only an operator generates keys and
/// manages the LMK; a key is formed from components only by two or three custodians, each with its
/// own credential (<see cref="Ceremonies.KeyCeremonies"/>). Zone keys travel between the switch and a bank
/// under their ZMK as host commands (payShield A6 and A8): a bank exports its ZPK and ZAK, the switch
/// imports them, and neither imports any other kind of key (<see cref="MayExchange"/>); which keys a
/// caller may use at all is each key's own policy (<see cref="KeyAccess"/>). Making PIN blocks from
/// clear PINs and PIN verification values (card issuance) is the <see cref="CardIssuing"/> role's,
/// which only a development Hsm accepts: a production bank never hands the Hsm a clear PIN.
/// </summary>
public static class CallerPolicy
{
    public const string Gateway = "gateway";
    public const string Switch = "switch";
    public const string Issuer = "issuer";
    public const string Operator = "operator";
    public const string CardIssuing = "card-issuing";
    public const string Custodian = "custodian";

    /// <summary>The operator console's lever on the platform's own key pairs: it rotates them and reads their versions, and does nothing else.</summary>
    public const string PlatformKeys = "platform-keys";

    private static readonly HashSet<string> KeyManagement =
        ["GenerateKey", "SubmitKeyComponent", "AbortKeyCeremony", "ImportKey", "ExportKey", "GenerateKeyVersion", "ActivateKeyVersion", "DiscardKeyVersion", "RotateLmk", "EraseOldLmk", "RotateKeyPair"];

    private static readonly Dictionary<string, HashSet<string>> Allowed = new(StringComparer.Ordinal)
    {
        [Gateway] = ["Diagnostics", "KeyCheckValue", "GetPublicKey", "TranslatePinFromBrowser", "GenerateMac", "VerifyMac", "EncryptData", "DecryptData", "LookupHash", "Sign", "Verify", "OpenEnvelopeKey"],
        // The switch issues new zone keys to the banks (A0 mode 1) and changes over to them.
        [Switch] = ["Diagnostics", "KeyCheckValue", "TranslatePin", "GenerateMac", "VerifyMac", "ImportKey", "GenerateKeyVersion", "ActivateKeyVersion", "DiscardKeyVersion"],
        // A bank imports only the next version of a zone key it holds (MayImport), and changes over to it.
        [Issuer] = ["Diagnostics", "KeyCheckValue", "ExportKey", "ImportKey", "ActivateKeyVersion", "DiscardKeyVersion", "VerifyPin", "VerifyCvv", "GenerateMac", "VerifyMac", "EncryptData", "DecryptData", "LookupHash"],
        [CardIssuing] = ["EncryptClearPin", "GeneratePinVerificationValue", "GenerateCvv"],
        // The operator ends a key ceremony that will not complete; it never submits a component.
        [Operator] = ["Diagnostics", "KeyCheckValue", "GetPublicKey", "GenerateKey", "AbortKeyCeremony", "ImportKey", "ExportKey", "GenerateKeyVersion", "ActivateKeyVersion", "DiscardKeyVersion", "RotateLmk", "EraseOldLmk", "RotateKeyPair"],
        [PlatformKeys] = ["KeyCheckValue", "GetPublicKey", "RotateKeyPair"],
        // Key custodians each hold one component of a key formed under dual control (and may end a ceremony), and nothing else.
        [Custodian] = ["SubmitKeyComponent", "AbortKeyCeremony"],
    };

    public static IEnumerable<string> RolesOf(string roles) => roles.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    public static bool IsKnownRole(string roles) => RolesOf(roles).Any() && RolesOf(roles).All(Allowed.ContainsKey);

    public static bool Has(string roles, string role) => RolesOf(roles).Contains(role, StringComparer.Ordinal);

    public static bool May(string roles, string command) =>
        RolesOf(roles).Any(role => Allowed.TryGetValue(role, out var commands) && commands.Contains(command));

    /// <summary>
    /// Which keys a caller may import under a ZMK: an operator any that travels, every other role
    /// only zone keys (ZPK and ZAK).
    /// </summary>
    public static bool MayExchange(string roles, KeyType type) =>
        Has(roles, Operator) || type is KeyType.Zpk or KeyType.Zak;

    /// <summary>
    /// An import a caller may make: the operator and the switch bring keys in; a bank only the next
    /// version of a zone key it already holds (a key change from the switch), never a key of a new id.
    /// </summary>
    public static bool MayImport(string roles, bool nextVersion) =>
        nextVersion || Has(roles, Operator) || Has(roles, Switch);

    /// <summary>Commands whose every use, allowed or refused, goes to the audit log.</summary>
    public static bool IsKeyManagement(string command) => KeyManagement.Contains(command);
}
