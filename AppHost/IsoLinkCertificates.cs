using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.AppHost;

/// <summary>
/// The ISO 8583 links between the switch and the banks run mutual TLS: each end holds a
/// certificate naming it, issued by the scheme's trust anchor. An operator gives the anchor's
/// certificate (parameter <c>iso-tls-trust-anchor-path</c>) and each end's certificate and key
/// (<c>{name}-iso-tls-certificate-path</c>, <c>{name}-iso-tls-key-path</c>) as PEM files; without
/// them the AppHost keeps a development CA in the data folder and issues each end its certificate
/// there: the switch's for client authentication, a bank's for server authentication. Published,
/// the three are always parameters: the paths where the deployment mounts the files.
/// </summary>
public static class IsoLinkCertificates
{
    public const int LeafValidityDays = 397;
    public const int AuthorityValidityDays = 5 * 365;
    private const string AuthorityFolder = "iso-link-ca";
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>A bank's listener: its certificate as a server, and the one peer it serves (the switch).</summary>
    public static IResourceBuilder<ProjectResource> WithIsoListenerCertificate(this IResourceBuilder<ProjectResource> bank, MeshDataFolder data, string peer) =>
        bank.WithIsoLinkCertificate(data, "Iso8583__Tls__", ServerAuthentication)
            .WithEnvironment("Iso8583__Peer", peer);

    /// <summary>The switch's side of its links: its certificate as a client.</summary>
    public static IResourceBuilder<ProjectResource> WithIsoClientCertificate(this IResourceBuilder<ProjectResource> cardSwitch, MeshDataFolder data) =>
        cardSwitch.WithIsoLinkCertificate(data, "Switch__IsoTls__", ClientAuthentication);

    private static IResourceBuilder<ProjectResource> WithIsoLinkCertificate(this IResourceBuilder<ProjectResource> resource, MeshDataFolder data,
        string environmentPrefix, Oid purpose)
    {
        var name = resource.Resource.Name;
        var builder = resource.ApplicationBuilder;
        if (builder.IsPublishing())
        {
            return resource
                .WithEnvironment(environmentPrefix + "CertificatePath", builder.AddParameter($"{name}-iso-tls-certificate-path"))
                .WithEnvironment(environmentPrefix + "KeyPath", builder.AddParameter($"{name}-iso-tls-key-path"))
                .WithEnvironment(environmentPrefix + "TrustAnchorPath", builder.SharedParameter("iso-tls-trust-anchor-path"));
        }
        var configuration = builder.Configuration;
        var trustAnchorPath = configuration["Parameters:iso-tls-trust-anchor-path"];
        string certificatePath, keyPath;
        if (string.IsNullOrWhiteSpace(trustAnchorPath))
        {
            (trustAnchorPath, certificatePath, keyPath) = DevelopmentCertificate(data, name, purpose);
        }
        else
        {
            certificatePath = configuration[$"Parameters:{name}-iso-tls-certificate-path"]
                ?? throw new InvalidOperationException($"Parameters:{name}-iso-tls-certificate-path is required with iso-tls-trust-anchor-path");
            keyPath = configuration[$"Parameters:{name}-iso-tls-key-path"]
                ?? throw new InvalidOperationException($"Parameters:{name}-iso-tls-key-path is required with iso-tls-trust-anchor-path");
        }
        return resource
            .WithEnvironment(environmentPrefix + "CertificatePath", certificatePath)
            .WithEnvironment(environmentPrefix + "KeyPath", keyPath)
            .WithEnvironment(environmentPrefix + "TrustAnchorPath", trustAnchorPath);
    }

    /// <summary>The development CA (made once) and a certificate it issued naming <paramref name="name"/>, renewed a week before it ends.</summary>
    private static (string TrustAnchorPath, string CertificatePath, string KeyPath) DevelopmentCertificate(MeshDataFolder data, string name, Oid purpose)
    {
        var (authority, authorityPath) = DevelopmentAuthority(Path.Combine(data.Root, AuthorityFolder));
        using (authority)
        {
            var folder = Path.Combine(data.Root, name);
            var certificatePath = Path.Combine(folder, "iso-tls.crt");
            var keyPath = Path.Combine(folder, "iso-tls.key");
            if (File.Exists(certificatePath) && File.Exists(keyPath) && IsCurrent(X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath)), authority))
            {
                return (authorityPath, certificatePath, keyPath);
            }
            Directory.CreateDirectory(folder);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={name}, O=Mesh development", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(name);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([purpose], critical: false));
            var now = DateTimeOffset.UtcNow;
            using var certificate = request.Create(authority, now.AddMinutes(-5), now.AddDays(LeafValidityDays), RandomNumberGenerator.GetBytes(16));
            OwnerOnlyFile.Write(keyPath, key.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
            return (authorityPath, certificatePath, keyPath);
        }
    }

    private static (X509Certificate2 Authority, string CertificatePath) DevelopmentAuthority(string folder)
    {
        var certificatePath = Path.Combine(folder, "ca.crt");
        var keyPath = Path.Combine(folder, "ca.key");
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            var existing = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            if (existing.NotAfter > DateTime.UtcNow.AddDays(LeafValidityDays))
            {
                return (existing, certificatePath);
            }
            existing.Dispose();
        }
        Directory.CreateDirectory(folder);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Mesh development ISO link CA, O=Mesh development", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(AuthorityValidityDays));
        OwnerOnlyFile.Write(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificatePath, authority.ExportCertificatePem());
        return (authority, certificatePath);
    }

    /// <summary>Issued by this authority and valid for more than a week.</summary>
    private static bool IsCurrent(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using (certificate)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate.NotAfter > DateTime.UtcNow.AddDays(7) && chain.Build(certificate);
        }
    }
}
