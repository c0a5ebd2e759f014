using System.Security.Cryptography;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;

namespace Mesh.Hsm.Keys;

/// <summary>RSA and P-256 key pairs: generated inside the Hsm, held as PKCS#8 under the LMK.</summary>
public static class KeyPairs
{
    public static bool IsKeyPair(KeyAlgorithm algorithm) =>
        algorithm is KeyAlgorithm.Rsa2048 or KeyAlgorithm.Rsa1024 or KeyAlgorithm.EcP256;

    public static byte[] Generate(KeyAlgorithm algorithm)
    {
        using AsymmetricAlgorithm pair = algorithm switch
        {
            KeyAlgorithm.Rsa2048 => RSA.Create(2048),
            // Only for the NetPay protocol, whose answers are signed with a 1024-bit key (docs/merchant-integration.md).
            KeyAlgorithm.Rsa1024 => RSA.Create(1024),
            KeyAlgorithm.EcP256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
            _ => throw new HsmException(HsmErrorCode.InvalidKeyType, $"key pairs are generated as RSA-2048, RSA-1024 (NetPay) or EC P-256, not {algorithm}"),
        };
        return pair.ExportPkcs8PrivateKey();
    }

    public static AsymmetricAlgorithm Load(KeyAlgorithm algorithm, byte[] pkcs8)
    {
        AsymmetricAlgorithm pair = algorithm == KeyAlgorithm.EcP256 ? ECDsa.Create() : RSA.Create();
        pair.ImportPkcs8PrivateKey(pkcs8, out _);
        return pair;
    }

    public static byte[] PublicKeyInfo(AsymmetricAlgorithm pair) => pair.ExportSubjectPublicKeyInfo();

    /// <summary>The ECDH view of a P-256 key pair (same private scalar), for PIN transport from browsers.</summary>
    public static ECDiffieHellman LoadKeyAgreement(string keyId, KeyAlgorithm algorithm, byte[] pkcs8)
    {
        if (algorithm != KeyAlgorithm.EcP256)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"{keyId} is not a P-256 key pair");
        }
        var ecdh = ECDiffieHellman.Create();
        ecdh.ImportPkcs8PrivateKey(pkcs8, out _);
        return ecdh;
    }
}
