using System.Security.Cryptography.X509Certificates;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

[Collection(MeshPlatformCollection.Name)]
public sealed class PlatformCertificateTests(MeshPlatformFixture platform)
{
    [Fact]
    public async Task PlatformCertificate_IsAnRsa2048CertificateSignedByItsOwnHsmHeldKey()
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");

        var pem = await http.GetStringAsync("/v1/platform-certificate");
        using var certificate = X509Certificate2.CreateFromPem(pem);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;

        Assert.Contains("CN=Mesh payment gateway", certificate.Subject, StringComparison.Ordinal);
        Assert.Equal(256, certificate.GetECDsaPublicKey()!.KeySize);
        Assert.Equal("1.2.840.10045.4.3.2", certificate.SignatureAlgorithm.Value); // ecdsa-with-SHA256
        Assert.True(chain.Build(certificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Equal(pem, await http.GetStringAsync("/v1/platform-certificate"));
    }
}
