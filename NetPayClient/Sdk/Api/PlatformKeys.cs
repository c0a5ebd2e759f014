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
