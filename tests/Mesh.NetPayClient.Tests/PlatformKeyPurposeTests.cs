using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mesh.NetPay.Api;
using Mesh.NetPay.Reconciliation;
using Mesh.NetPay.Signing;

namespace Mesh.NetPayClient.Tests;

/// <summary>
/// One platform key per purpose: the SDK believes a reconciliation file only under the files
/// certificate, and that certificate only when the issuing certificate issued it for that purpose
/// (its extended key usage), which it believes only when that certificate issued the pinned
/// platform certificate. A signature made with the answers key is not a file signature.
/// </summary>
public sealed class PlatformKeyPurposeTests : IDisposable
{
    private static readonly byte[] Csv = Encoding.UTF8.GetBytes(ReconciliationFile.TotalsHeader + "\n2026-11-25,808080000000001,CNY,1,100,0,1,0,99,paid\n");
    private readonly TestPlatform _platform = new();
    private readonly TestPlatform _stranger = new();
    private readonly MerchantKey _key = MerchantKey.CreateRsa(2048);

    [Fact]
    public async Task AFileSignedWithTheFilesKey_IsSaved()
    {
        using var client = Client(_platform.IssuingCertificate, _platform.FilesCertificate, FileSignature(_platform.FilesKey));
        using var saved = new MemoryStream();

        var (_, bytes) = await client.DownloadReconciliationAsync(new DateOnly(2026, 11, 25), ReconciliationKind.Totals, saved);

        Assert.Equal(Csv.Length, bytes);
        Assert.Equal(Csv, saved.ToArray());
    }

    [Fact]
    public async Task AFileSignedWithTheAnswersKey_IsRefused()
    {
        using var client = Client(_platform.IssuingCertificate, _platform.FilesCertificate, FileSignature((ECDsa)_platform.SigningKey));

        var refused = await Assert.ThrowsAsync<NetPayException>(() =>
            client.DownloadReconciliationAsync(new DateOnly(2026, 11, 25), ReconciliationKind.Totals, new MemoryStream()));

        Assert.Contains("files certificate", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAnswersCertificateServedAsTheFilesCertificate_IsRefused_ThoughTheFileIsSignedWithItsKey()
    {
        using var client = Client(_platform.IssuingCertificate, _platform.Certificate, FileSignature((ECDsa)_platform.SigningKey));

        var refused = await Assert.ThrowsAsync<NetPayException>(() =>
            client.DownloadReconciliationAsync(new DateOnly(2026, 11, 25), ReconciliationKind.Totals, new MemoryStream()));

        Assert.Contains("files certificate was issued for another purpose", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheIssuingCertificateServedAsTheFilesCertificate_IsRefused()
    {
        using var client = Client(_platform.IssuingCertificate, _platform.IssuingCertificate, FileSignature(_platform.IssuingKey));

        var refused = await Assert.ThrowsAsync<NetPayException>(() => client.PlatformFilesCertificateAsync());

        Assert.Contains("files certificate was issued for another purpose", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFilesCertificateIssuedByAnotherKey_OrAnIssuingCertificateThatDidNotIssueThePinnedOne_IsRefused()
    {
        using var foreignFiles = Client(_platform.IssuingCertificate, _stranger.FilesCertificate, FileSignature(_stranger.FilesKey));
        using var foreignIssuing = Client(_stranger.IssuingCertificate, _stranger.FilesCertificate, FileSignature(_stranger.FilesKey));

        var files = await Assert.ThrowsAsync<NetPayException>(() => foreignFiles.PlatformFilesCertificateAsync());
        var issuing = await Assert.ThrowsAsync<NetPayException>(() => foreignIssuing.PlatformFilesCertificateAsync());

        Assert.Contains("files certificate was not issued", files.Message, StringComparison.Ordinal);
        Assert.Contains("issuing certificate did not issue", issuing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheIssuingCertificate_IssuedThePlatformAndFilesCertificates_AndNeitherOfThoseIssuedTheOther()
    {
        Assert.True(PlatformKeys.IsIssuedBy(_platform.IssuingCertificate, _platform.IssuingCertificate));
        Assert.True(PlatformKeys.IsIssuedBy(_platform.Certificate, _platform.IssuingCertificate));
        Assert.True(PlatformKeys.IsIssuedBy(_platform.FilesCertificate, _platform.IssuingCertificate));
        Assert.False(PlatformKeys.IsIssuedBy(_platform.FilesCertificate, _platform.Certificate));
        Assert.False(PlatformKeys.IsIssuedBy(_platform.Certificate, _platform.FilesCertificate));
    }

    private byte[] FileSignature(ECDsa key) => key.SignData(Csv, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>A client that pins the platform certificate, talking to a gateway that serves these certificates and the file with this signature.</summary>
    private NetPay.Api.NetPayClient Client(X509Certificate2 issuing, X509Certificate2 files, byte[] fileSignature) => new(new NetPayClientOptions
    {
        GatewayUrl = new Uri("http://gateway.test"),
        MerchantId = "808080000000001",
        Key = _key,
        PlatformCertificatePem = _platform.CertificatePem,
        RetriesMax = 0,
    }, new HttpClient(new ScriptedHandler((request, _) => request.RequestUri!.AbsolutePath switch
    {
        PlatformKeys.IssuingCertificatePath => Pem(issuing),
        PlatformKeys.FilesCertificatePath => Pem(files),
        _ => File(fileSignature),
    })));

    private static HttpResponseMessage Pem(X509Certificate2 certificate) => new(HttpStatusCode.OK) { Content = new StringContent(certificate.ExportCertificatePem()) };

    private static HttpResponseMessage File(byte[] signature)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Csv) };
        response.Headers.Add("Mesh-File-Signature", Convert.ToBase64String(signature));
        return response;
    }

    public void Dispose()
    {
        _platform.Dispose();
        _stranger.Dispose();
        _key.Dispose();
    }
}
