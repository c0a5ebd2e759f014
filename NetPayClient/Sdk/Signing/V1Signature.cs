using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mesh.NetPay.Signing;

/// <summary>
/// The <c>/v1</c> signature, both ways: drop <c>signature</c> and empty values, sort the names
/// (ordinal), join <c>name=value</c> with <c>&amp;</c>, with <c>%</c>, <c>&amp;</c> and <c>=</c> inside a name or
/// value written <c>%25</c>, <c>%26</c> and <c>%3D</c>; take the SHA-256 hex digest (lower case) of
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

    /// <summary>The string that is digested: <c>a=1&amp;b=2</c>, sorted, without empties or the signature, <c>%&amp;=</c> percent-encoded.</summary>
    public static string CanonicalString(IEnumerable<KeyValuePair<string, string?>> fields) =>
        string.Join('&', fields
            .Where(f => f.Key != SignatureField && !string.IsNullOrEmpty(f.Value))
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => $"{Escape(f.Key)}={Escape(f.Value!)}"));

    /// <summary>A name or value as the canonical string holds it: <c>%</c> → <c>%25</c> (first), <c>&amp;</c> → <c>%26</c>, <c>=</c> → <c>%3D</c>.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.AsSpan().IndexOfAny('%', '&', '=') < 0 ? text : text.Replace("%", "%25", StringComparison.Ordinal)
            .Replace("&", "%26", StringComparison.Ordinal).Replace("=", "%3D", StringComparison.Ordinal);
    }

    /// <summary>The lower-case SHA-256 hex of the canonical string: what is signed, as ASCII.</summary>
    public static string Digest(IEnumerable<KeyValuePair<string, string?>> fields) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalString(fields))));

    /// <summary>The shortest RSA key <c>/v1</c> takes; the NetPay form protocol's RSA-1024 keys sign NetPay forms only.</summary>
    public const int RsaBitsMin = 2048;

    /// <summary>The merchant's base64 signature over <paramref name="fields"/>.</summary>
    /// <exception cref="ArgumentException">The key is RSA of fewer than <see cref="RsaBitsMin"/> bits, which the platform refuses on <c>/v1</c>.</exception>
    public static string Sign(IEnumerable<KeyValuePair<string, string?>> fields, MerchantKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Algorithm is RSA { KeySize: < RsaBitsMin } rsa)
        {
            throw new ArgumentException($"/v1 takes RSA keys of {RsaBitsMin} bits or more, or ECDSA P-256; this RSA-{rsa.KeySize} key signs NetPay forms only",
                nameof(key));
        }
        return Convert.ToBase64String(key.Sign(Encoding.ASCII.GetBytes(Digest(fields)), HashAlgorithmName.SHA256));
    }

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
