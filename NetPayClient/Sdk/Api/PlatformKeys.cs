using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.NetPay.Signing;

namespace Mesh.NetPay.Api;

/// <summary>
/// The platform's public keys as a merchant holds them: the signing certificate (answers,
/// notifications, reconciliation files), the envelope certificate it issued (requests sealed to
/// the platform) and the NetPay PGID key (form-protocol answers).
/// </summary>
public static class PlatformKeys
{
    /// <summary>The platform's signing certificate as the gateway publishes it (<c>/v1/platform-certificate</c>); pinning the one given at onboarding is safer.</summary>
    public static async Task<X509Certificate2> FetchCertificateAsync(HttpClient http, Uri gateway, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        return X509Certificate2.CreateFromPem(await http.GetStringAsync(new Uri(gateway, "/v1/platform-certificate"), ct));
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

    /// <summary>True when <paramref name="issued"/> carries a signature by <paramref name="issuer"/>'s key: SHA256withECDSA or SHA256withRSA.</summary>
    public static bool IsIssuedBy(X509Certificate2 issued, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(issued);
        ArgumentNullException.ThrowIfNull(issuer);
        var algorithm = issued.SignatureAlgorithm.Value;
        if (algorithm != EcdsaWithSha256 && algorithm != Sha256WithRsa)
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

    private const string Sha256WithRsa = "1.2.840.113549.1.1.11";
    private const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";
    private const string EcPublicKey = "1.2.840.10045.2.1";
}
