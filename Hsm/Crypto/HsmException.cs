namespace Mesh.Hsm.Crypto;

/// <summary>payShield error codes, carried to callers in the gRPC status details.</summary>
public static class HsmErrorCode
{
    public const string VerificationFailure = "01";
    public const string InvalidKeyType = "04";
    public const string KeyParity = "10";
    public const string InvalidInput = "15";
    public const string PinBlockInvalid = "20";
    public const string InvalidPinBlockFormat = "23";
    public const string PinLength = "24";
    public const string KeyNotFound = "K1";
    public const string KeyExists = "K2";
    /// <summary>The key exists, but is not the caller's, or not for the use the command makes of it.</summary>
    public const string KeyNotPermitted = "K3";
    public const string CommandDisabled = "68";
}

/// <summary>A command refused with a payShield error code; never carries a PIN or key value in its message.</summary>
public sealed class HsmException(string code, string message, string? keyId = null) : Exception(message)
{
    public string Code { get; } = code;

    /// <summary>The key the refusal is about, when it is about one (K3: the key the caller may not use), for the audit log.</summary>
    public string? KeyId { get; } = keyId;
}
