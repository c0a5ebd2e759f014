using System.Security.Cryptography;
using Mesh.Contracts.Hsm;

namespace Mesh.Hsm.Keys;

/// <summary>
/// A key inside the Hsm: its identity, type, algorithm and value (a symmetric key, or a key
/// pair's PKCS#8 private key). The value never leaves the process in clear.
/// </summary>
public sealed class HeldKey(string keyId, KeyType type, KeyAlgorithm algorithm, byte[] value, KeyPolicy? policy = null)
{
    private readonly Lazy<AsymmetricAlgorithm> _pair = new(() => KeyPairs.Load(algorithm, value));
    private readonly Lazy<ECDiffieHellman> _agreement = new(() => KeyPairs.LoadKeyAgreement(keyId, algorithm, value));

    public string KeyId { get; } = keyId;

    public KeyType Type { get; } = type;

    public KeyAlgorithm Algorithm { get; } = algorithm;

    /// <summary>Its owners and the uses each may make of it, bound into its key block.</summary>
    public KeyPolicy Policy { get; } = policy ?? KeyPolicy.None;

    /// <summary>The same key under another policy (provisioning states the policy; an old block had none).</summary>
    public HeldKey WithPolicy(KeyPolicy next) => new(KeyId, Type, Algorithm, Value, next);

    internal byte[] Value { get; } = value;

    public bool IsAes => Algorithm is KeyAlgorithm.Aes128 or KeyAlgorithm.Aes256;

    /// <summary>
    /// The PIN block formats this key may carry, into or out of any PIN command: those its policy
    /// names, or by default the card-bound formats its algorithm takes (0 and 3 for 3DES, 4 for
    /// AES). Format 1, which carries no card number, only where the policy names it.
    /// </summary>
    public IReadOnlySet<Crypto.PinBlockFormat> PinBlockFormats => Policy.PinBlockFormats ?? (IsAes ? AesPinBlockFormats : TripleDesPinBlockFormats);

    private static readonly IReadOnlySet<Crypto.PinBlockFormat> AesPinBlockFormats = new HashSet<Crypto.PinBlockFormat> { Crypto.PinBlockFormat.Iso4 };
    private static readonly IReadOnlySet<Crypto.PinBlockFormat> TripleDesPinBlockFormats =
        new HashSet<Crypto.PinBlockFormat> { Crypto.PinBlockFormat.Iso0, Crypto.PinBlockFormat.Iso3 };

    public bool IsKeyPair => KeyPairs.IsKeyPair(Algorithm);

    /// <summary>The loaded key pair (RSA, ECDsa); loaded once, used by every command after.</summary>
    internal AsymmetricAlgorithm Pair => IsKeyPair ? _pair.Value : throw new Crypto.HsmException(Crypto.HsmErrorCode.InvalidKeyType, $"{KeyId} is not a key pair");

    /// <summary>The ECDH view of a P-256 key pair (same private scalar), loaded once: browsers' PIN transport runs on every payment.</summary>
    internal ECDiffieHellman Agreement => _agreement.Value;

    /// <summary>DES family: 3 bytes of E(K, 0); AES: 5 bytes of CMAC(K, 0); key pairs: 5 bytes of SHA-256 of the public key.</summary>
    public string CheckValue => IsKeyPair
        ? Convert.ToHexString(SHA256.HashData(KeyPairs.PublicKeyInfo(Pair)), 0, 5)
        : IsAes ? KeyCheckValue.Aes(Value) : KeyCheckValue.TripleDes(Value);

    public KeyInfo ToInfo()
    {
        var info = new KeyInfo { KeyId = KeyId, KeyType = Type, Algorithm = Algorithm, CheckValue = CheckValue, Owners = { Policy.ToProto() } };
        if (Type is KeyType.Zpk or KeyType.Tpk)
        {
            info.PinBlockFormats.AddRange(PinBlockFormats.Order().Select(f => (PinBlockFormat)f));
        }
        return info;
    }

    /// <summary>Masked: key values are never printed.</summary>
    public override string ToString() => $"{Type} {KeyId} ({Algorithm}, KCV {CheckValue}, owners {Policy})";

    public static int LengthOf(KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.Tdes2Key => 16,
        KeyAlgorithm.Tdes3Key => 24,
        KeyAlgorithm.Aes128 => 16,
        KeyAlgorithm.Aes256 => 32,
        _ => throw new Crypto.HsmException(Crypto.HsmErrorCode.InvalidKeyType, $"{algorithm} is not a symmetric key algorithm"),
    };
}
