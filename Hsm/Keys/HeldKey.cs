using Mesh.Contracts.Hsm;

namespace Mesh.Hsm.Keys;

/// <summary>A key inside the Hsm: its identity, type, algorithm and clear value (never leaves the process in clear).</summary>
public sealed class HeldKey(string keyId, KeyType type, KeyAlgorithm algorithm, byte[] value)
{
    public string KeyId { get; } = keyId;

    public KeyType Type { get; } = type;

    public KeyAlgorithm Algorithm { get; } = algorithm;

    internal byte[] Value { get; } = value;

    public bool IsAes => Algorithm is KeyAlgorithm.Aes128 or KeyAlgorithm.Aes256;

    public string CheckValue => IsAes ? KeyCheckValue.Aes(Value) : KeyCheckValue.TripleDes(Value);

    public KeyInfo ToInfo() => new() { KeyId = KeyId, KeyType = Type, Algorithm = Algorithm, CheckValue = CheckValue };

    /// <summary>Masked: key values are never printed.</summary>
    public override string ToString() => $"{Type} {KeyId} ({Algorithm}, KCV {CheckValue})";

    public static int LengthOf(KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.Tdes2Key => 16,
        KeyAlgorithm.Tdes3Key => 24,
        KeyAlgorithm.Aes128 => 16,
        KeyAlgorithm.Aes256 => 32,
        _ => throw new Crypto.HsmException(Crypto.HsmErrorCode.InvalidKeyType, "unknown key algorithm"),
    };
}
