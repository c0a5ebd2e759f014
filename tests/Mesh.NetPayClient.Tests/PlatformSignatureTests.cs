using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mesh.NetPay.Api;
using Mesh.NetPay.Notifications;
using Mesh.NetPay.Signing;

namespace Mesh.NetPayClient.Tests;

/// <summary>
/// The platform signs with ECDSA P-256; an installation whose signing key predates that signs with
/// RSA. A merchant's SDK believes either by the certificate it holds, and nothing else.
/// </summary>
public class PlatformSignatureTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnAnswer_SignedByThePlatform_Verifies_AndAChangedFieldOrAnotherPlatformDoesNot(bool rsa)
    {
        using var platform = new TestPlatform(rsa);
        using var stranger = new TestPlatform(rsa);
        var answer = platform.Signed(TestPlatform.OrderFields("o-1"));
        var changed = new Dictionary<string, string?>(answer) { ["txnAmt"] = "99999" };

        Assert.True(V1Signature.IsPlatformSigned(answer, answer["signature"], platform.Certificate));
        Assert.False(V1Signature.IsPlatformSigned(changed, answer["signature"], platform.Certificate));
        Assert.False(V1Signature.IsPlatformSigned(answer, answer["signature"], stranger.Certificate));
        Assert.False(V1Signature.IsPlatformSigned(answer, "not base64!", platform.Certificate));
    }

    [Fact]
    public void AnEcdsaSignature_IsTakenAsRAndS_OrAsDer_AndACorruptedOneIsRefused()
    {
        using var platform = new TestPlatform();
        var data = Encoding.UTF8.GetBytes("detail file of 2026-11-26");
        var key = (ECDsa)platform.SigningKey;
        var rAndS = key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var der = key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var corrupted = (byte[])rAndS.Clone();
        corrupted[10] ^= 1;

        Assert.Equal(64, rAndS.Length);
        Assert.True(PlatformSignature.VerifyData(platform.Certificate, data, rAndS));
        Assert.True(PlatformSignature.VerifyData(platform.Certificate, data, der));
        Assert.True(PlatformSignature.VerifyHash(platform.Certificate, SHA256.HashData(data), rAndS));
        Assert.False(PlatformSignature.VerifyData(platform.Certificate, data, corrupted));
        Assert.False(PlatformSignature.VerifyData(platform.Certificate, data, der[..^1]));
        Assert.False(PlatformSignature.VerifyData(platform.Certificate, data, []));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ANotification_SignedByALegacyOrACurrentPlatformKey_IsBelieved(bool rsa)
    {
        using var platform = new TestPlatform(rsa);
        var body = """{"notificationId":"9","kind":"purchase","merId":"808080000000001","orderId":"o-9","version":"2","status":"paid","txnAmt":"100","currencyCode":"CNY"}"""u8
            .ToArray();
        var headers = new Dictionary<string, string>
        {
            ["Mesh-Signature"] = Convert.ToBase64String(platform.Sign(body)),
            ["Mesh-Cert-Id"] = V1Signature.CertIdOf(platform.Certificate),
        };

        var n = new NotificationReader(platform.Certificate, platform.NetPayKey).Read(headers, "application/json", body);

        Assert.Equal(("9", "o-9", 100L), (n.NotificationId, n.OrderId, n.AmountMinor));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACertificateIssuedByThePlatform_IsRecognised_AndOneIssuedByAnotherKeyIsNot(bool rsa)
    {
        using var platform = new TestPlatform(rsa);
        using var stranger = new TestPlatform(rsa);
        using var envelopeKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=Test Platform envelope", envelopeKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var serial = new byte[] { 0x01, 0x02, 0x03 };
        var from = DateTimeOffset.UtcNow.AddDays(-1);
        var to = DateTimeOffset.UtcNow.AddDays(10);
        using var issued = IssueWith(platform, request, from, to, serial);
        using var forged = IssueWith(stranger, request, from, to, serial);

        Assert.True(PlatformKeys.IsIssuedBy(issued, platform.Certificate));
        Assert.False(PlatformKeys.IsIssuedBy(forged, platform.Certificate));
        Assert.False(PlatformKeys.IsIssuedBy(platform.Certificate, stranger.Certificate));
    }

    private static X509Certificate2 IssueWith(TestPlatform issuer, CertificateRequest request, DateTimeOffset from, DateTimeOffset to, byte[] serial) =>
        issuer.SigningKey is RSA rsa
            ? request.Create(issuer.Certificate.SubjectName, X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1), from, to, serial)
            : request.Create(issuer.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa((ECDsa)issuer.SigningKey), from, to, serial);
}
