using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.NetPay.Signing;

namespace Mesh.NetPay.Api;

/// <summary>
/// The platform's public keys as a merchant holds them, one per purpose: the platform certificate
/// (answers, notifications), the files certificate (reconciliation files), the envelope
/// certificate (requests sealed to the platform), the issuing certificate that issued those three
/// and signs nothing else, and the NetPay PGID key (form-protocol answers).
/// </summary>
public static class PlatformKeys
{
    /// <summary>Where the gateway publishes the platform certificate: answers and notifications.</summary>
    public const string CertificatePath = "/v1/platform-certificate";

    /// <summary>Where the gateway publishes the files certificate: reconciliation files.</summary>
    public const string FilesCertificatePath = "/v1/platform-files-certificate";

    /// <summary>Where the gateway publishes the envelope certificate: requests sealed to the platform.</summary>
    public const string EnvelopeCertificatePath = "/v1/platform-envelope-certificate";

    /// <summary>Where the gateway publishes the issuing certificate (self-signed), which issued the three above.</summary>
    public const string IssuingCertificatePath = "/v1/platform-issuing-certificate";

    /// <summary>The extended key usage of the platform certificate: it signs /v1 answers and notifications.</summary>
    public const string AnswersPurposeOid = "2.25.131089013948534618386770640737088618005";

    /// <summary>The extended key usage of the files certificate: it signs reconciliation files.</summary>
    public const string FilesPurposeOid = "2.25.231086289429773457504858025368365745185";

    /// <summary>The platform certificate as the gateway publishes it (<see cref="CertificatePath"/>); pinning the one given at onboarding is safer.</summary>
    public static async Task<X509Certificate2> FetchCertificateAsync(HttpClient http, Uri gateway, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        return X509Certificate2.CreateFromPem(await http.GetStringAsync(new Uri(gateway, CertificatePath), ct));
    }

    /// <summary>Where the gateway lists every certificate in use (current, and the ones a rotation replaced until their overlap ends) and the NetPay keys.</summary>
    public const string CertificatesListPath = "/v1/platform-certificates";

    /// <summary>Where the gateway publishes every NetPay PGID key in use: two during a rotation's overlap (NetPay answers name no key).</summary>
    public const string NetPayKeysPath = "/v1/platform-netpay-keys";

    /// <summary>The most certificates a client keeps by certId: a rotation adds one, a retirement drops one.</summary>
    public const int CertificatesByIdMax = 16;

    /// <summary>
    /// The certificate <paramref name="certId"/> names, fetched from <paramref name="path"/> (<c>?certId=</c>) and believed only
    /// when it is that certId's, <paramref name="issuing"/> issued it, and it is for the purpose <paramref name="isForPurpose"/> checks:
    /// what a client does when an answer, a notification or a file names a key it does not hold (a rotation).
    /// </summary>
    /// <exception cref="NetPayException">The platform has no such certificate in use (retired or unknown), or it is not the platform's.</exception>
    public static async Task<X509Certificate2> FetchCertificateByIdAsync(HttpClient http, Uri gateway, string path, string certId, X509Certificate2 issuing,
        Func<X509Certificate2, bool> isForPurpose, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(isForPurpose);
        if (certId is not { Length: 16 } || !certId.All(char.IsAsciiHexDigitLower))
        {
            throw new NetPayException($"certId {certId} is not 16 lower-case hex digits");
        }
        using var response = await http.GetAsync(new Uri(gateway, $"{path}?certId={certId}"), ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new NetPayException($"the platform has no certificate {certId} in use ({(int)response.StatusCode}): retired, or never the platform's");
        }
        var certificate = X509Certificate2.CreateFromPem(await response.Content.ReadAsStringAsync(ct));
        if (V1Signature.CertIdOf(certificate) != certId || !IsIssuedBy(certificate, issuing) || !isForPurpose(certificate))
        {
            certificate.Dispose();
            throw new NetPayException($"the certificate served as {certId} is not one the platform's issuing key issued for that purpose");
        }
        return certificate;
    }

    /// <summary>Every NetPay PGID key in use (<see cref="NetPayKeysPath"/>): verify a NetPay answer with each, current first.</summary>
    public static async Task<IReadOnlyList<RSA>> FetchNetPayKeysAsync(HttpClient http, Uri gateway, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        var pem = await http.GetStringAsync(new Uri(gateway, NetPayKeysPath), ct);
        var keys = new List<RSA>();
        foreach (var block in pem.Split("-----END PUBLIC KEY-----", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(block + "\n-----END PUBLIC KEY-----");
            keys.Add(rsa);
        }
        return keys;
    }

    /// <summary>The public key NetPay form-protocol answers are signed with (<c>/v1/platform-netpay-key</c>, PGID key, RSA-1024).</summary>
    public static async Task<RSA> FetchNetPayKeyAsync(HttpClient http, Uri gateway, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        var pem = await http.GetStringAsync(new Uri(gateway, "/v1/platform-netpay-key"), ct);
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return rsa;
    }

    /// <summary>
    /// True when <paramref name="issued"/> names <paramref name="issuer"/> as its issuer and carries
    /// a signature by <paramref name="issuer"/>'s key: SHA256withECDSA or SHA256withRSA.
    /// </summary>
    public static bool IsIssuedBy(X509Certificate2 issued, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(issued);
        ArgumentNullException.ThrowIfNull(issuer);
        var algorithm = issued.SignatureAlgorithm.Value;
        if ((algorithm != EcdsaWithSha256 && algorithm != Sha256WithRsa) || !issued.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData))
        {
            return false;
        }
        try
        {
            // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
            var certificate = new AsnReader(issued.RawData, AsnEncodingRules.DER).ReadSequence();
            var tbs = certificate.ReadEncodedValue().ToArray();
            certificate.ReadSequence();
            var signature = certificate.ReadBitString(out _);
            // An ECDSA signature in a certificate is DER, never r‖s.
            return (algorithm == EcdsaWithSha256) == (issuer.GetKeyAlgorithm() == EcPublicKey)
                && PlatformSignature.VerifyHash(issuer, SHA256.HashData(tbs), signature, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="certificate"/> is an end entity's whose extended key usage names <paramref name="purposeOid"/>.</summary>
    public static bool HasPurpose(X509Certificate2 certificate, string purposeOid)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return !IsAuthority(certificate) && certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == purposeOid));
    }

    /// <summary>True when <paramref name="certificate"/> is an end entity's whose key usage includes <paramref name="usage"/>.</summary>
    public static bool HasKeyUsage(X509Certificate2 certificate, X509KeyUsageFlags usage)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return !IsAuthority(certificate) && certificate.Extensions.OfType<X509KeyUsageExtension>().Any(e => e.KeyUsages.HasFlag(usage));
    }

    private static bool IsAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(e => e.CertificateAuthority);

    private const string Sha256WithRsa = "1.2.840.113549.1.1.11";
    private const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";
    private const string EcPublicKey = "1.2.840.10045.2.1";
}
