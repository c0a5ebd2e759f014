using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.AppHost;

/// <summary>
/// The payment page is served over HTTPS. An operator gives the gateway's certificate and key as
/// PEM files (parameters <c>gateway-tls-certificate-path</c> and <c>gateway-tls-key-path</c>);
/// without them the AppHost makes a self-signed one for localhost in the data folder, once.
/// Published, the two are always parameters (where the deployment mounts the files), and the
/// payment page's address is the parameter <see cref="MeshPublishing.GatewayPublicUrl"/>.
/// </summary>
public static class GatewayTls
{
    public const int ValidityDays = 397;

    /// <summary>The https port as Gateway/appsettings.json has it; Aspire's publisher would give it the http one's.</summary>
    public const int PublishedHttpsPort = 5443;

    /// <summary>Where the payment page sends the consumer's browser: the https endpoint, or published the public address.</summary>
    public static IResourceBuilder<ProjectResource> WithPaymentPageBaseUrl(this IResourceBuilder<ProjectResource> gateway) =>
        gateway.ApplicationBuilder.IsPublishing()
            ? gateway.WithEnvironment("Gateway__PaymentPageBaseUrl", gateway.ApplicationBuilder.AddParameter(MeshPublishing.GatewayPublicUrl))
            : gateway.WithEnvironment("Gateway__PaymentPageBaseUrl", gateway.GetEndpoint("https"));

    public static IResourceBuilder<ProjectResource> WithGatewayTls(this IResourceBuilder<ProjectResource> gateway, MeshDataFolder data)
    {
        var builder = gateway.ApplicationBuilder;
        if (builder.IsPublishing())
        {
            return gateway
                .WithEndpoint("https", endpoint => endpoint.TargetPort = PublishedHttpsPort)
                .WithEnvironment("Kestrel__Endpoints__https__Certificate__Path", builder.AddParameter("gateway-tls-certificate-path"))
                .WithEnvironment("Kestrel__Endpoints__https__Certificate__KeyPath", builder.AddParameter("gateway-tls-key-path"));
        }
        var configuration = builder.Configuration;
        var certificatePath = configuration["Parameters:gateway-tls-certificate-path"];
        var keyPath = configuration["Parameters:gateway-tls-key-path"];
        if (string.IsNullOrWhiteSpace(certificatePath) || string.IsNullOrWhiteSpace(keyPath))
        {
            (certificatePath, keyPath) = DevelopmentCertificate(Path.Combine(data.Root, "gateway"));
        }
        return gateway
            .WithEnvironment("Kestrel__Endpoints__https__Certificate__Path", certificatePath)
            .WithEnvironment("Kestrel__Endpoints__https__Certificate__KeyPath", keyPath);
    }

    private static (string CertificatePath, string KeyPath) DevelopmentCertificate(string folder)
    {
        var certificatePath = Path.Combine(folder, "tls-development.crt");
        var keyPath = Path.Combine(folder, "tls-development.key");
        if (File.Exists(certificatePath) && File.Exists(keyPath)
            && X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath)).NotAfter > DateTime.UtcNow.AddDays(7))
        {
            return (certificatePath, keyPath);
        }
        Directory.CreateDirectory(folder);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=Mesh development", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(ValidityDays));
        OwnerOnlyFile.Write(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        return (certificatePath, keyPath);
    }
}
