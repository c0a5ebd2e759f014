using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Mesh.NetPay.Api;
using Mesh.NetPay.Signing;

namespace Mesh.NetPayClient.Tests;

/// <summary>
/// A stand-in for the platform's keys inside unit tests, one per purpose as the gateway has them:
/// the platform certificate's key (answers, notifications; ECDSA P-256, as the platform signs, or
/// RSA-2048, as an installation whose key predates that does), the files key, the issuing key
/// (self-signed; it issued the other two certificates) and a NetPay key, and answers signed as
/// the gateway signs them.
/// </summary>
public sealed class TestPlatform : IDisposable
{
    public TestPlatform(bool rsa = false)
    {
        var from = DateTimeOffset.UtcNow.AddDays(-1);
        var to = DateTimeOffset.UtcNow.AddDays(30);
        IssuingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issuing = new CertificateRequest("CN=Test Platform certificates", IssuingKey, HashAlgorithmName.SHA256);
        issuing.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, critical: true));
        IssuingCertificate = issuing.CreateSelfSigned(from, to);
        SigningKey = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = SigningKey is RSA rsaKey
            ? new CertificateRequest("CN=Test Platform", rsaKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=Test Platform", (ECDsa)SigningKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(PlatformKeys.AnswersPurposeOid)], critical: false));
        Certificate = Issue(request, from, to);
        FilesKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var files = new CertificateRequest("CN=Test Platform files", FilesKey, HashAlgorithmName.SHA256);
        files.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(PlatformKeys.FilesPurposeOid)], critical: false));
        FilesCertificate = Issue(files, from, to);
        NetPayKey = RSA.Create(1024);
    }

    public AsymmetricAlgorithm SigningKey { get; }

    public X509Certificate2 Certificate { get; }

    public ECDsa FilesKey { get; }

    public X509Certificate2 FilesCertificate { get; }

    public ECDsa IssuingKey { get; }

    public X509Certificate2 IssuingCertificate { get; }

    public RSA NetPayKey { get; }

    /// <summary>A certificate issued by the platform's issuing key.</summary>
    public X509Certificate2 Issue(CertificateRequest request, DateTimeOffset from, DateTimeOffset to) =>
        request.Create(IssuingCertificate.SubjectName, X509SignatureGenerator.CreateForECDsa(IssuingKey), from, to, RandomNumberGenerator.GetBytes(8));

    public string CertificatePem => Certificate.ExportCertificatePem();

    public Dictionary<string, string?> Signed(Dictionary<string, string?> fields)
    {
        fields["certId"] = V1Signature.CertIdOf(Certificate);
        fields["signature"] = Convert.ToBase64String(Sign(Encoding.ASCII.GetBytes(V1Signature.Digest(fields))));
        return fields;
    }

    /// <summary>The platform's signature of <paramref name="data"/>, as the gateway publishes it: ECDSA as DER, or RSA PKCS#1 v1.5; SHA-256.</summary>
    public byte[] Sign(byte[] data) => SigningKey is RSA rsa
        ? rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
        : ((ECDsa)SigningKey).SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    public static Dictionary<string, string?> OrderFields(string orderId, string status = "paid") => new()
    {
        ["merId"] = "808080000000001",
        ["orderId"] = orderId,
        ["txnAmt"] = "12800",
        ["currencyCode"] = "CNY",
        ["txnDate"] = "20261126",
        ["status"] = status,
        ["version"] = "3",
        ["paidAmt"] = "12800",
        ["refundedAmt"] = "0",
        ["createdAt"] = "20261126080000",
        ["signTime"] = "20261126080001",
    };

    public static HttpResponseMessage Json(HttpStatusCode status, object body, string contentType = "application/json") => new(status)
    {
        Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, contentType),
    };

    public void Dispose()
    {
        SigningKey.Dispose();
        Certificate.Dispose();
        FilesKey.Dispose();
        FilesCertificate.Dispose();
        IssuingKey.Dispose();
        IssuingCertificate.Dispose();
        NetPayKey.Dispose();
    }
}

/// <summary>An HttpMessageHandler that answers from a script and records what it was sent.</summary>
public sealed class ScriptedHandler(Func<HttpRequestMessage, int, HttpResponseMessage> answer) : HttpMessageHandler
{
    public List<(HttpMethod Method, string Path, string? IdempotencyKey, string Body)> Sent { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        Sent.Add((request.Method, request.RequestUri!.AbsolutePath, request.Headers.TryGetValues("Idempotency-Key", out var keys) ? keys.Single() : null, body));
        return answer(request, Sent.Count);
    }
}
