using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Jose;

namespace Mesh.NetPay.Envelopes;

/// <summary>
/// The digital envelopes of the platform's envelope protocol. A JWE (RFC 7516, compact
/// serialization, <c>application/jose</c>): <c>alg</c> <c>RSA-OAEP-256</c> wraps a fresh content
/// key, <c>enc</c> <c>A256GCM</c> encrypts the message, and the protected header (with <c>kid</c>,
/// the recipient certificate's certId) is authenticated as the AES-GCM additional data. Sealed and
/// opened with jose-jwt: any JOSE library (nimbus-jose-jwt, web-token/jwt-framework, go-jose) reads
/// and writes the same. Merchants who gave a certificate receive CMS EnvelopedData instead
/// (<c>application/pkcs7-mime; smime-type=enveloped-data</c>).
/// </summary>
public static class DigitalEnvelope
{
    /// <summary>The JWE's media type (RFC 7515 section 9.2.1: compact serialization).</summary>
    public const string JoseContentType = "application/jose";

    /// <summary>The CMS envelope's media type.</summary>
    public const string CmsContentType = "application/pkcs7-mime";

    /// <summary>The only key management algorithm sealed or opened.</summary>
    public const string Algorithm = "RSA-OAEP-256";

    /// <summary>The only content encryption sealed or opened.</summary>
    public const string Encryption = "A256GCM";

    /// <summary>Largest message opened, in bytes.</summary>
    public const int EnvelopeBytesMax = 1024 * 1024;

    /// <summary>
    /// Seals <paramref name="message"/> to <paramref name="recipient"/> as a compact JWE whose protected header names the
    /// recipient's key (<paramref name="keyId"/>: the certId of its certificate, when there is one).
    /// </summary>
    public static string Seal(byte[] message, RSA recipient, string? keyId = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(recipient);
        var headers = keyId is null ? null : new Dictionary<string, object> { ["kid"] = keyId };
        return JWT.EncodeBytes(message, recipient, JweAlgorithm.RSA_OAEP_256, JweEncryption.A256GCM, extraHeaders: headers);
    }

    /// <summary>Opens a compact JWE sealed to <paramref name="privateKey"/> with <c>RSA-OAEP-256</c> and <c>A256GCM</c> (nothing else is taken).</summary>
    /// <exception cref="CryptographicException">It is not such a JWE, or it was not sealed to this key, or it (or its header) was altered.</exception>
    public static byte[] Open(ReadOnlySpan<byte> compactJwe, RSA privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        if (compactJwe.Length > EnvelopeBytesMax)
        {
            throw new CryptographicException($"an envelope of more than {EnvelopeBytesMax} bytes");
        }
        try
        {
            return JWT.DecodeBytes(Encoding.ASCII.GetString(compactJwe).Trim(), privateKey, JweAlgorithm.RSA_OAEP_256, JweEncryption.A256GCM);
        }
        catch (Exception ex) when (ex is JoseException or FormatException or ArgumentException or CryptographicException or IndexOutOfRangeException)
        {
            throw new CryptographicException($"not a compact JWE ({Algorithm}, {Encryption}) sealed to this key, or altered", ex);
        }
    }

    /// <summary>Opens CMS EnvelopedData addressed to <paramref name="certificate"/>, whose private key is <paramref name="privateKey"/>.</summary>
    public static byte[] OpenCms(byte[] envelopedData, X509Certificate2 certificate, RSA privateKey)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var withKey = certificate.CopyWithPrivateKey(privateKey);
        var cms = new EnvelopedCms();
        cms.Decode(envelopedData);
        cms.Decrypt(new X509Certificate2Collection(withKey));
        return cms.ContentInfo.Content;
    }
}
