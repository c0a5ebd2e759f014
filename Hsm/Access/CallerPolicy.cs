namespace Mesh.Hsm.Access;

/// <summary>
/// Least privilege: each caller of the Hsm has a role, and a role a list of the commands it may
/// run. The gateway cannot verify PINs, an issuer cannot export keys, and only an operator
/// manages keys and the LMK.
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
        [Switch] = ["Diagnostics", "KeyCheckValue", "TranslatePin", "GenerateMac", "VerifyMac"],
        [Issuer] = ["Diagnostics", "KeyCheckValue", "VerifyPin", "GeneratePinVerificationValue", "EncryptClearPin", "GenerateCvv", "VerifyCvv", "GenerateMac", "VerifyMac", "EncryptData", "DecryptData", "LookupHash"],
        [Settlement] = ["Diagnostics", "KeyCheckValue", "GetPublicKey", "Sign", "Verify"],
        [Operator] = ["Diagnostics", "KeyCheckValue", "GetPublicKey", .. KeyManagement],
    };

    public static bool IsKnownRole(string role) => Allowed.ContainsKey(role);

    public static bool May(string role, string command) => Allowed.TryGetValue(role, out var commands) && commands.Contains(command);

    /// <summary>Commands whose every use, allowed or refused, goes to the audit log.</summary>
    public static bool IsKeyManagement(string command) => KeyManagement.Contains(command);
}
