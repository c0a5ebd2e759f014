using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Mesh.NetPay.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// One platform key per purpose: answers and notifications, reconciliation files, certificates.
/// Each certificate is issued by the issuing key (self-signed), states its purpose, and a
/// signature made for one purpose does not verify under another's certificate.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class PlatformCertificateTests(MeshPlatformFixture platform)
{
    private const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";

    [Fact]
    public async Task EveryPlatformCertificate_IsIssuedByTheIssuingKey_WhoseOwnCertificateIsSelfSignedAndIssuesOnly()
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");

        using var issuing = await CertificateAsync(http, PlatformKeys.IssuingCertificatePath);
        var answersPem = await http.GetStringAsync(PlatformKeys.CertificatePath);
        using var answers = X509Certificate2.CreateFromPem(answersPem);
        using var files = await CertificateAsync(http, PlatformKeys.FilesCertificatePath);
        using var envelope = await CertificateAsync(http, PlatformKeys.EnvelopeCertificatePath);

        Assert.Equal("CN=Mesh payment gateway certificates, O=Mesh, C=CN", issuing.Subject);
        Assert.Equal(issuing.Subject, issuing.Issuer);
        Assert.True(PlatformKeys.IsIssuedBy(issuing, issuing));
        Assert.True(issuing.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(X509KeyUsageFlags.KeyCertSign, issuing.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
        Assert.Equal(256, issuing.GetECDsaPublicKey()!.KeySize);
        foreach (var issued in new[] { answers, files, envelope })
        {
            Assert.NotEqual(issuing.Subject, issued.Subject);
            Assert.Equal(issuing.Subject, issued.Issuer);
            Assert.Equal(EcdsaWithSha256, issued.SignatureAlgorithm.Value);
            Assert.True(PlatformKeys.IsIssuedBy(issued, issuing), issued.Subject);
            Assert.True(ChainsTo(issued, issuing), issued.Subject);
            Assert.False(issued.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        }
        Assert.Contains("CN=Mesh payment gateway,", answers.Subject, StringComparison.Ordinal);
        Assert.Contains("CN=Mesh payment gateway files,", files.Subject, StringComparison.Ordinal);
        Assert.True(PlatformKeys.HasPurpose(answers, PlatformKeys.AnswersPurposeOid));
        Assert.False(PlatformKeys.HasPurpose(answers, PlatformKeys.FilesPurposeOid));
        Assert.True(PlatformKeys.HasPurpose(files, PlatformKeys.FilesPurposeOid));
        Assert.False(PlatformKeys.HasPurpose(files, PlatformKeys.AnswersPurposeOid));
        Assert.True(PlatformKeys.HasKeyUsage(envelope, X509KeyUsageFlags.KeyEncipherment));
        // Four keys, four certificates: no two share a key, and none of them issued another.
        Assert.Equal(4, new[] { issuing, answers, files, envelope }.Select(c => Convert.ToHexString(c.PublicKey.ExportSubjectPublicKeyInfo())).Distinct().Count());
        Assert.False(PlatformKeys.IsIssuedBy(envelope, answers));
        Assert.False(PlatformKeys.IsIssuedBy(files, answers));
        Assert.Equal(answersPem, await http.GetStringAsync(PlatformKeys.CertificatePath));
    }

    [Fact]
    public async Task AnAnswersSignature_VerifiesOnlyUnderThePlatformCertificate_NotUnderTheFilesOrIssuingOnes()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, TestMerchant.NewOrderId(), 12_00)));
        var answer = await created.Content.ReadFromJsonAsync<JsonElement>();

        using var answers = (await CertificateAsync(http, PlatformKeys.CertificatePath)).GetECDsaPublicKey()!;
        using var files = (await CertificateAsync(http, PlatformKeys.FilesCertificatePath)).GetECDsaPublicKey()!;
        using var issuing = (await CertificateAsync(http, PlatformKeys.IssuingCertificatePath)).GetECDsaPublicKey()!;

        Assert.True(TestMerchant.PlatformSigned(answer, answers));
        Assert.False(TestMerchant.PlatformSigned(answer, files));
        Assert.False(TestMerchant.PlatformSigned(answer, issuing));
    }

    [Fact]
    public async Task TheChain_VerifiesWithOpenssl_AsTheMerchantGuideShows()
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var dir = Directory.CreateTempSubdirectory("mesh-chain-");
        try
        {
            foreach (var (file, path) in new[] { ("issuing.pem", PlatformKeys.IssuingCertificatePath), ("platform.pem", PlatformKeys.CertificatePath),
                ("files.pem", PlatformKeys.FilesCertificatePath), ("envelope.pem", PlatformKeys.EnvelopeCertificatePath) })
            {
                await File.WriteAllTextAsync(Path.Combine(dir.FullName, file), await http.GetStringAsync(path));
            }

            var (exit, output) = await NetPaySdkTests.ShellAsync(
                $"cd '{dir.FullName}' && openssl verify -x509_strict -check_ss_sig -CAfile issuing.pem issuing.pem platform.pem files.pem envelope.pem");

            Assert.True(exit == 0, output);
            Assert.Equal(["issuing.pem: OK", "platform.pem: OK", "files.pem: OK", "envelope.pem: OK"], output.Trim().Split('\n'));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<X509Certificate2> CertificateAsync(HttpClient http, string path) =>
        X509Certificate2.CreateFromPem(await http.GetStringAsync(path));

    /// <summary>An X.509 chain from <paramref name="issued"/> to <paramref name="root"/> as its one trusted root, as a verifier builds it.</summary>
    private static bool ChainsTo(X509Certificate2 issued, X509Certificate2 root)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(issued) && chain.ChainElements[^1].Certificate.Thumbprint == root.Thumbprint;
    }
}
