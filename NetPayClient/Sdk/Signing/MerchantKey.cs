using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.NetPay.Signing;

/// <summary>
/// The merchant's private key: RSA (1,024 bits for the NetPay form protocol, 2,048 or more for
/// <c>/v1</c>) or ECDSA P-256 (<c>/v1</c> only). Keep it in a file only the shop's account reads,
/// or a key vault; the platform only ever sees the public half.
/// </summary>
public sealed class MerchantKey : IDisposable
{
    private MerchantKey(AsymmetricAlgorithm key) => Algorithm = key;

    /// <summary>The key itself: an <see cref="RSA"/> or an <see cref="ECDsa"/>.</summary>
    public AsymmetricAlgorithm Algorithm { get; }

    /// <summary>True for RSA keys, the only kind the NetPay form protocol signs with.</summary>
    public bool IsRsa => Algorithm is RSA;

    /// <summary>Reads a PEM private key: PKCS#8 (<c>PRIVATE KEY</c>), <c>RSA PRIVATE KEY</c> or <c>EC PRIVATE KEY</c>.</summary>
    /// <exception cref="ArgumentException">The text holds no private key this SDK signs with.</exception>
    public static MerchantKey FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (pem.Contains("EC PRIVATE KEY", StringComparison.Ordinal) || IsEcPkcs8(pem))
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return ec.KeySize == 256 ? new MerchantKey(ec) : throw new ArgumentException("ECDSA keys must be on P-256", nameof(pem));
        }
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (ArgumentException)
        {
            rsa.Dispose();
            throw new ArgumentException("no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) found", nameof(pem));
        }
        return new MerchantKey(rsa);
    }

    /// <summary>A new RSA key (<paramref name="bits"/>: 1024 for NetPay, 2048 or more for <c>/v1</c>).</summary>
    public static MerchantKey CreateRsa(int bits) => new(RSA.Create(bits));

    /// <summary>A new ECDSA P-256 key (<c>/v1</c> only).</summary>
    public static MerchantKey CreateEcdsaP256() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>The private key as PKCS#8 PEM.</summary>
    public string ExportPrivateKeyPem() => Algorithm.ExportPkcs8PrivateKeyPem();

    /// <summary>The public key as SubjectPublicKeyInfo PEM: what the platform is given at onboarding.</summary>
    public string ExportPublicKeyPem() => Algorithm.ExportSubjectPublicKeyInfoPem();

    /// <summary>A PKCS#10 certificate request for the key, signed with SHA-256, for merchants whose platform account takes a certificate.</summary>
    public string CreateCertificateRequestPem(string subject)
    {
        var name = new X500DistinguishedName(subject);
        var request = Algorithm switch
        {
            RSA rsa => new CertificateRequest(name, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ECDsa ec => new CertificateRequest(name, ec, HashAlgorithmName.SHA256),
            _ => throw new InvalidOperationException("an RSA or ECDSA key"),
        };
        return request.CreateSigningRequestPem();
    }

    /// <summary>Signs <paramref name="data"/>: RSA PKCS#1 v1.5 or ECDSA (IEEE P1363, r‖s), with <paramref name="hash"/>.</summary>
    public byte[] Sign(byte[] data, HashAlgorithmName hash) => Algorithm switch
    {
        RSA rsa => rsa.SignData(data, hash, RSASignaturePadding.Pkcs1),
        ECDsa ec => ec.SignData(data, hash),
        _ => throw new InvalidOperationException("an RSA or ECDSA key"),
    };

    /// <inheritdoc />
    public void Dispose() => Algorithm.Dispose();

    private static bool IsEcPkcs8(string pem)
    {
        using var probe = ECDsa.Create();
        try
        {
            probe.ImportFromPem(pem);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return false;
        }
    }
}
