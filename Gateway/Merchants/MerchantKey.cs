using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.Gateway.Localization;

namespace Mesh.Gateway.Merchants;

/// <summary>A merchant's public key as onboarding keeps it: SubjectPublicKeyInfo, algorithm and size, and the certificate when one was given.</summary>
public sealed record MerchantKey(byte[] SubjectPublicKeyInfo, string Algorithm, int Bits, string? CertificatePem)
{
    public const string Rsa = "rsa";
    public const string EcdsaP256 = "ecdsa-p256";

    /// <summary>RSA from 1024 bits (the NetPay protocol's keys) to 4096.</summary>
    public const int RsaBitsMin = 1024;
    public const int RsaBitsMax = 4096;

    /// <summary>The shortest RSA key <c>/v1</c> takes: the NetPay protocol keeps its RSA-1024, the JSON API does not.</summary>
    public const int V1RsaBitsMin = 2048;
    public const int PemCharsMax = 16_384;

    /// <summary>SHA-256 of the SubjectPublicKeyInfo, as operators compare keys.</summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(SubjectPublicKeyInfo));

    /// <summary>Reads a PEM <c>PUBLIC KEY</c> or <c>CERTIFICATE</c>; the reason it is refused otherwise.</summary>
    public static (MerchantKey? Key, Words? Refusal) Parse(string? pem)
    {
        if (string.IsNullOrWhiteSpace(pem) || pem.Length > PemCharsMax)
        {
            return (null, new Words("a PEM public key or certificate of at most {0} characters", PemCharsMax));
        }
        byte[] spki;
        string? certificate = null;
        try
        {
            if (pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                using var cert = X509Certificate2.CreateFromPem(pem);
                spki = cert.PublicKey.ExportSubjectPublicKeyInfo();
                certificate = cert.ExportCertificatePem();
            }
            else
            {
                var fields = PemEncoding.Find(pem);
                if (pem[fields.Label] != "PUBLIC KEY")
                {
                    return (null, new Words("the PEM label is PUBLIC KEY or CERTIFICATE"));
                }
                spki = Convert.FromBase64String(pem[fields.Base64Data]);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException or FormatException)
        {
            return (null, new Words("not a readable PEM public key or certificate"));
        }
        return Classify(spki, certificate);
    }

    private static (MerchantKey?, Words?) Classify(byte[] spki, string? certificate)
    {
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(spki, out _);
            return rsa.KeySize is >= RsaBitsMin and <= RsaBitsMax
                ? (new MerchantKey(spki, Rsa, rsa.KeySize, certificate), null)
                : (null, new Words("an RSA key of {0} to {1} bits", RsaBitsMin, RsaBitsMax));
        }
        catch (CryptographicException)
        {
        }
        try
        {
            using var ec = ECDsa.Create();
            ec.ImportSubjectPublicKeyInfo(spki, out _);
            var curve = ec.ExportParameters(false).Curve;
            return curve.Oid.Value == ECCurve.NamedCurves.nistP256.Oid.Value
                ? (new MerchantKey(spki, EcdsaP256, 256, certificate), null)
                : (null, new Words("an EC key on P-256"));
        }
        catch (CryptographicException)
        {
            return (null, new Words("an RSA or ECDSA P-256 public key"));
        }
    }
}
