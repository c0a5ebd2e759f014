using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Platform;

namespace Mesh.Gateway.Signatures;

/// <summary>
/// The <c>/v1</c> signatures, in the UnionPay style: drop <c>signature</c> and empty values, sort
/// the keys (ordinal), join <c>k=v</c> with <c>&amp;</c> (in names and values <c>%</c>, <c>&amp;</c> and
/// <c>=</c> written <c>%25</c>, <c>%26</c>, <c>%3D</c>, so that no two sets of fields give one string),
/// take the SHA-256 hex digest (lower case) of that string, and sign the digest's ASCII with RSA-SHA256 (PKCS#1 v1.5) or ECDSA P-256 SHA-256;
/// the signature is base64. ECDSA signatures are accepted as IEEE P1363 (r‖s, 64 bytes) or DER.
/// The platform signs its answers the same way with its key in the Hsm: ECDSA P-256 (DER), or
/// RSA-SHA256 where an installation's key predates that.
/// </summary>
public sealed class CanonicalSignature(HsmSession hsm, PlatformCertificates platform)
{
    public const string SignatureField = "signature";
    public const string CertIdField = "certId";
    public const int SignatureCharsMax = 1024;

    public static string CanonicalString(IEnumerable<KeyValuePair<string, string?>> fields) =>
        string.Join('&', fields
            .Where(f => f.Key != SignatureField && !string.IsNullOrEmpty(f.Value))
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => $"{Escape(f.Key)}={Escape(f.Value!)}"));

    /// <summary>
    /// A name or value as the canonical string holds it: <c>%</c>, <c>&amp;</c> and <c>=</c> percent-encoded
    /// (<c>%</c> first), everything else as it is. Without it <c>a=1&amp;b=2</c> was both {a: "1", b: "2"}
    /// and {a: "1&amp;b=2"}, and one signature stood for both.
    /// </summary>
    public static string Escape(string text) =>
        text.AsSpan().IndexOfAny('%', '&', '=') < 0 ? text : text.Replace("%", "%25", StringComparison.Ordinal)
            .Replace("&", "%26", StringComparison.Ordinal).Replace("=", "%3D", StringComparison.Ordinal);

    /// <summary>What is signed: the ASCII of the canonical string's SHA-256 hex digest.</summary>
    public static byte[] SignedBytes(IEnumerable<KeyValuePair<string, string?>> fields) =>
        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalString(fields)))));

    public static bool IsValid(byte[] merchantSpki, string algorithm, IEnumerable<KeyValuePair<string, string?>> fields, string? signature)
    {
        if (string.IsNullOrEmpty(signature) || signature.Length > SignatureCharsMax)
        {
            return false;
        }
        var signed = SignedBytes(fields);
        try
        {
            var bytes = Convert.FromBase64String(signature);
            if (algorithm == MerchantKey.EcdsaP256)
            {
                var format = bytes.Length == 64 ? DSASignatureFormat.IeeeP1363FixedFieldConcatenation : DSASignatureFormat.Rfc3279DerSequence;
                return MerchantPublicKeys.Ecdsa(merchantSpki).VerifyData(signed, bytes, HashAlgorithmName.SHA256, format);
            }
            return MerchantPublicKeys.Rsa(merchantSpki).VerifyData(signed, bytes, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return false;
        }
    }

    /// <summary>The platform's signature over <paramref name="fields"/> (made in the Hsm with the answers key), with the certId that names its certificate.</summary>
    public async Task<(string CertId, string Signature)> SignAsync(IEnumerable<KeyValuePair<string, string?>> fields, CancellationToken ct)
    {
        var key = await platform.AnswersKeyAsync(ct);
        var withCertId = fields.Where(f => f.Key != CertIdField).Append(new(CertIdField, key.CertId));
        var reply = await hsm.SignAsync(new SignRequest
        {
            KeyId = PlatformCertificates.AnswersKeyId,
            Data = ByteString.CopyFrom(SignedBytes(withCertId)),
            Scheme = key.Scheme,
            CheckValue = key.CheckValue,
        }, ct);
        return (key.CertId, Convert.ToBase64String(SigningKeys.Published(key.Scheme, reply.Signature.Span)));
    }
}
