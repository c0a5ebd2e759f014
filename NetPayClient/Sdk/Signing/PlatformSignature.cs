using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.NetPay.Signing;

/// <summary>
/// Checks the platform's signatures with the certificate of their purpose (the platform
/// certificate for answers and notifications, the files certificate for reconciliation files),
/// whichever key it holds: ECDSA P-256 with SHA-256 (what the platform signs with;
/// the signature is DER, as openssl makes it, or r‖s, 64 bytes, as Web Crypto does) or RSA with
/// SHA-256 (PKCS#1 v1.5: an installation whose signing key predates ECDSA). The certificate's public key is loaded
/// once per certificate, not on every check.
/// </summary>
public static class PlatformSignature
{
    private static readonly ConditionalWeakTable<X509Certificate2, AsymmetricAlgorithm> Loaded = new();

    /// <summary>True when <paramref name="signature"/> is the platform's signature of <paramref name="data"/>.</summary>
    public static bool VerifyData(X509Certificate2 platform, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(data, hash);
        return VerifyHash(platform, hash, signature);
    }

    /// <summary>True when <paramref name="signature"/> is the platform's signature of data whose SHA-256 is <paramref name="sha256"/>.</summary>
    public static bool VerifyHash(X509Certificate2 platform, ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> signature) =>
        // r‖s is 64 bytes; a DER signature is 64 bytes only when r and s are short, so that length is read both ways.
        VerifyHash(platform, sha256, signature, DSASignatureFormat.Rfc3279DerSequence)
        || (signature.Length == 64 && VerifyHash(platform, sha256, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

    /// <summary>As <see cref="VerifyHash(X509Certificate2, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>, with an ECDSA signature read only in <paramref name="ecdsaFormat"/>.</summary>
    internal static bool VerifyHash(X509Certificate2 platform, ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> signature, DSASignatureFormat ecdsaFormat)
    {
        ArgumentNullException.ThrowIfNull(platform);
        try
        {
            return KeyOf(platform) switch
            {
                ECDsa ecdsa => ecdsa.VerifyHash(sha256, signature, ecdsaFormat),
                RSA rsa => rsa.VerifyHash(sha256, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static AsymmetricAlgorithm KeyOf(X509Certificate2 platform) =>
        Loaded.GetValue(platform, certificate => (AsymmetricAlgorithm?)certificate.GetECDsaPublicKey() ?? certificate.GetRSAPublicKey()
            ?? throw new CryptographicException("the platform certificate holds neither an ECDSA nor an RSA key"));
}
