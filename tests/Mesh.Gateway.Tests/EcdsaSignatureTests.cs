using System.Security.Cryptography;
using Mesh.Contracts.Hsm;

namespace Mesh.Gateway.Tests;

/// <summary>
/// The Hsm signs with ECDSA as r‖s; a certificate carries DER. The conversion must give what
/// OpenSSL reads as the same signature, for every r and s: a high first bit (a leading zero is
/// added) and leading zero bytes (they are dropped) come up among a few thousand signatures.
/// </summary>
public class EcdsaSignatureTests
{
    [Fact]
    public void RAndS_AsDer_VerifiesAsTheSameSignature_ForThousandsOfSignatures()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var data = "tbsCertificate of the platform's envelope certificate"u8.ToArray();
        var lengths = new HashSet<int>();
        for (var i = 0; i < 3_000; i++)
        {
            var rAndS = key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            var der = EcdsaSignatures.ToDer(rAndS);
            lengths.Add(der.Length);
            Assert.True(key.VerifyData(data, der, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence), $"signature {i}");
        }
        // 70 bytes: both halves need no padding; 72: both need a leading zero; 71 one of them (and shorter when a half starts with zero bytes).
        Assert.Superset(new HashSet<int> { 70, 71, 72 }, lengths);
    }

    [Fact]
    public void ASignatureOfUnevenHalves_IsRefused() =>
        Assert.Throws<CryptographicException>(() => EcdsaSignatures.ToDer(new byte[63]));

    [Fact]
    public void TheSchemeOfASigningKey_FollowsItsAlgorithm()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);

        Assert.Equal(SignatureScheme.EcdsaP256Sha256, SigningKeys.Sha256SchemeOf(ec.ExportSubjectPublicKeyInfo()));
        Assert.Equal(SignatureScheme.RsaPkcs1Sha256, SigningKeys.Sha256SchemeOf(rsa.ExportSubjectPublicKeyInfo()));
    }
}
