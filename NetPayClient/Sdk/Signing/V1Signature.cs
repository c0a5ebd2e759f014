using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mesh.NetPay.Signing;

/// <summary>
/// The <c>/v1</c> signature, both ways: drop <c>signature</c> and empty values, sort the names
/// (ordinal), join <c>name=value</c> with <c>&amp;</c>; take the SHA-256 hex digest (lower case) of
/// that UTF-8 string, and sign the digest's ASCII with RSA-SHA256 (PKCS#1 v1.5) or ECDSA P-256
/// SHA-256; the signature is base64. The platform signs its answers the same way (with
/// <c>certId</c> naming its certificate).
/// </summary>
public static class V1Signature
{
    /// <summary>The field that carries the signature; never itself signed.</summary>
    public const string SignatureField = "signature";

    /// <summary>The field that names the platform certificate an answer is signed with.</summary>
    public const string CertIdField = "certId";

    /// <summary>The string that is digested: <c>a=1&amp;b=2</c>, sorted, without empties or the signature.</summary>
    public static string CanonicalString(IEnumerable<KeyValuePair<string, string?>> fields) =>
        string.Join('&', fields
            .Where(f => f.Key != SignatureField && !string.IsNullOrEmpty(f.Value))
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => $"{f.Key}={f.Value}"));

    /// <summary>The lower-case SHA-256 hex of the canonical string: what is signed, as ASCII.</summary>
    public static string Digest(IEnumerable<KeyValuePair<string, string?>> fields) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalString(fields))));

    /// <summary>The merchant's base64 signature over <paramref name="fields"/>.</summary>
    public static string Sign(IEnumerable<KeyValuePair<string, string?>> fields, MerchantKey key) =>
        Convert.ToBase64String(key.Sign(Encoding.ASCII.GetBytes(Digest(fields)), HashAlgorithmName.SHA256));

    /// <summary>Adds <c>signature</c> to <paramref name="fields"/>, signed together with <paramref name="alsoSigned"/> (path values the request carries in its URL).</summary>
    public static Dictionary<string, string?> SignInPlace(Dictionary<string, string?> fields, MerchantKey key, params (string Name, string Value)[] alsoSigned)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var signed = new Dictionary<string, string?>(fields, StringComparer.Ordinal);
        foreach (var (name, value) in alsoSigned)
        {
            signed[name] = value;
        }
        fields[SignatureField] = Sign(signed, key);
        return fields;
    }

    /// <summary>True when <paramref name="signature"/> is the platform's signature over <paramref name="fields"/> (ECDSA P-256 or RSA, by its certificate).</summary>
    public static bool IsPlatformSigned(IEnumerable<KeyValuePair<string, string?>> fields, string? signature, X509Certificate2 platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        return !string.IsNullOrEmpty(signature) && Base64.TryDecode(signature, out var bytes)
            && PlatformSignature.VerifyData(platform, Encoding.ASCII.GetBytes(Digest(fields)), bytes);
    }

    /// <summary>The <c>certId</c> of a platform certificate: the first 16 hex digits of the SHA-256 of its public key (SubjectPublicKeyInfo).</summary>
    public static string CertIdOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()))[..16];
    }
}
