using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.Iso8583.Channel;

namespace Mesh.Iso8583.Tests;

/// <summary>A scheme CA made for the test and certificates it (or another CA) issues: what the AppHost's development CA does.</summary>
public sealed class TestLinkCertificates : IDisposable
{
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    public TestLinkCertificates(string authorityName = "Test scheme CA")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={authorityName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, critical: true));
        Authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-3), DateTimeOffset.UtcNow.AddYears(1));
    }

    public X509Certificate2 Authority { get; }

    /// <summary>The trust anchor alone, as the other end holds it (no private key).</summary>
    public X509Certificate2 TrustAnchor => X509CertificateLoader.LoadCertificate(Authority.RawData);

    /// <summary>A certificate naming <paramref name="name"/> for <paramref name="purpose"/>, with its key.</summary>
    public X509Certificate2 Issue(string name, Oid purpose, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([purpose], critical: false));
        var notBefore = DateTimeOffset.UtcNow.AddDays(-2);
        using var issued = request.Create(Authority, notBefore, notAfter ?? DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(16));
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>One end of a link: its certificate and this CA as the trust anchor.</summary>
    public IsoLinkTls End(string name, Oid purpose) => new(Issue(name, purpose), TrustAnchor, TimeProvider.System);

    public void Dispose() => Authority.Dispose();
}
