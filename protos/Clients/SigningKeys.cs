using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Contracts.Hsm;

/// <summary>The SHA-256 signature scheme of a held signing key pair, read from its public key (what <c>GetPublicKey</c> returns).</summary>
public static class SigningKeys
{
    private const string EcPublicKey = "1.2.840.10045.2.1";

    /// <summary>ECDSA P-256 with SHA-256 for an EC key; RSA PKCS#1 v1.5 with SHA-256 for an RSA key.</summary>
    /// <exception cref="CryptographicException">The bytes are not a SubjectPublicKeyInfo.</exception>
    public static SignatureScheme Sha256SchemeOf(byte[] subjectPublicKeyInfo) =>
        PublicKey.CreateFromSubjectPublicKeyInfo(subjectPublicKeyInfo, out _).Oid.Value == EcPublicKey
            ? SignatureScheme.EcdsaP256Sha256
            : SignatureScheme.RsaPkcs1Sha256;

    /// <summary>
    /// A signature from the Hsm as the platform publishes it (answers, notifications, files,
    /// certificates): ECDSA as DER, which openssl, Java's SHA256withECDSA and X.509 read; RSA as is.
    /// </summary>
    public static byte[] Published(SignatureScheme scheme, ReadOnlySpan<byte> hsmSignature) =>
        scheme == SignatureScheme.EcdsaP256Sha256 ? EcdsaSignatures.ToDer(hsmSignature) : hsmSignature.ToArray();
}

/// <summary>ECDSA signatures between the Hsm's form (r‖s, IEEE P1363) and X.509's (DER).</summary>
public static class EcdsaSignatures
{
    /// <summary>r‖s (two equal halves) as <c>SEQUENCE { INTEGER r, INTEGER s }</c>.</summary>
    public static byte[] ToDer(ReadOnlySpan<byte> p1363)
    {
        if (p1363.Length is 0 || p1363.Length % 2 != 0)
        {
            throw new CryptographicException("an ECDSA signature r‖s has two halves of equal length");
        }
        var half = p1363.Length / 2;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(Minimal(p1363[..half]));
            writer.WriteIntegerUnsigned(Minimal(p1363[half..]));
        }
        return writer.Encode();
    }

    /// <summary>A big-endian unsigned integer without its leading zero bytes (DER's shortest form; zero stays one byte).</summary>
    private static ReadOnlySpan<byte> Minimal(ReadOnlySpan<byte> value)
    {
        var first = value.IndexOfAnyExcept((byte)0);
        return first < 0 ? value[^1..] : value[first..];
    }
}
