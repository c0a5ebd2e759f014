using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.NetPay.Api;
using Mesh.NetPay.Signing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The platform's own keys rotate: an operator starts it from the console, the new version signs (or is
/// sealed to) at once on every replica, the replaced one still verifies, opens and reads PINs until the
/// overlap ends, then it is retired. The SDK fetches the certificate of a certId it meets for the first
/// time (checked against the issuing certificate), a page opened before a PIN transport key's rotation
/// still pays, and nobody but a platform admin rotates.
/// </summary>
[Collection(KeyRotationPlatformCollection.Name)]
public sealed class PlatformKeyRotationTests(KeyRotationPlatformFixture platform)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private NetPay.Api.NetPayClient Client(TestMerchant merchant, string? pinnedPem = null, bool seal = false) => new(new NetPayClientOptions
    {
        GatewayUrl = platform.App.GetEndpoint("gateway", "http"),
        MerchantId = merchant.MerchantId,
        Key = MerchantKey.FromPem(merchant.RsaKey.ExportPkcs8PrivateKeyPem()),
        PlatformCertificatePem = pinnedPem,
        SealRequests = seal,
    });

    [Fact]
    public async Task TheAnswersKey_RotatedUnderTraffic_EveryAnswerVerifiesInTheSdk_TheNewCertIdIsFetched_AndTheOldOneRetires()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var oldPem = await http.GetStringAsync(PlatformKeys.CertificatePath);
        using var oldCertificate = X509Certificate2.CreateFromPem(oldPem);
        var oldCertId = V1Signature.CertIdOf(oldCertificate);
        var oldCheckValue = CheckValueOf(oldCertificate.PublicKey.ExportSubjectPublicKeyInfo());
        using var client = Client(merchant, oldPem);
        var beforeAnswer = await RawAnswerAsync(http, merchant);
        var admin = await ConsoleSession.PlatformOperatorAsync(platform, "keys" + Suffix(), "platform-admin");
        var failures = new ConcurrentQueue<Exception>();
        var created = 0;
        using var stop = new CancellationTokenSource();
        var traffic = Enumerable.Range(0, 2).Select(async payer =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await client.CreateOrderAsync(new CreateOrder($"rot-{payer}-" + TestMerchant.NewOrderId(), 10_00 + payer));
                    Interlocked.Increment(ref created);
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex);
                }
            }
        }).ToList();
        await Eventually.TrueAsync(() => Volatile.Read(ref created) >= 5, "five orders created before the rotation", Deadline);

        using var rotated = await RotateAsync(admin, PlatformCertificatesKeyIds.Answers, oldCheckValue, overlapSeconds: 30);
        var rotatedPage = await rotated.Content.ReadAsStringAsync();
        // Both replicas sign with the new version once they have read it (within their key cache's time).
        string? newCertId = null;
        await Eventually.TrueAsync(async () =>
        {
            var certIds = new List<string?>();
            for (var i = 0; i < 4; i++)
            {
                certIds.Add((await RawAnswerAsync(http, merchant)).GetProperty("certId").GetString());
            }
            newCertId = certIds[0];
            return certIds.All(c => c != oldCertId && c == certIds[0]);
        }, "every replica signs with the new key", Deadline);
        var createdAtNewKey = Volatile.Read(ref created);
        await Eventually.TrueAsync(() => Volatile.Read(ref created) >= createdAtNewKey + 5, "five orders created under the new key", Deadline);
        await stop.CancelAsync();
        await Task.WhenAll(traffic);
        var fetched = await client.PlatformCertificateAsync(newCertId!);
        var issuing = await client.PlatformIssuingCertificateAsync();
        var listed = await http.GetFromJsonAsync<JsonElement>(PlatformKeys.CertificatesListPath);
        using var oldDuringOverlap = await http.GetAsync($"{PlatformKeys.CertificatePath}?certId={oldCertId}");
        using var again = await RotateAsync(admin, PlatformCertificatesKeyIds.Answers, oldCheckValue, overlapSeconds: 30);
        var againPage = await again.Content.ReadAsStringAsync();
        var answers = listed.GetProperty("certificates").EnumerateArray().Where(c => c.GetProperty("purpose").GetString() == "answers").ToList();

        Assert.Empty(failures);
        Assert.Equal(oldCertId, beforeAnswer.GetProperty("certId").GetString());
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.Contains("accepted until", rotatedPage, StringComparison.Ordinal);
        Assert.NotEqual(oldCertId, newCertId);
        Assert.Equal(newCertId, V1Signature.CertIdOf(fetched));
        Assert.True(PlatformKeys.IsIssuedBy(fetched, issuing) && PlatformKeys.HasPurpose(fetched, PlatformKeys.AnswersPurposeOid));
        Assert.Equal([(newCertId, "current"), (oldCertId, "previous")],
            answers.Select(c => (c.GetProperty("certId").GetString(), c.GetProperty("status").GetString())));
        Assert.True(answers[1].GetProperty("retiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.OK, oldDuringOverlap.StatusCode);
        // The same command again (the operator's form sent twice) changes nothing.
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(newCertId, (await RawAnswerAsync(http, merchant)).GetProperty("certId").GetString());
        // Both presses are audited, the second one as what changed nothing.
        Assert.Equal(2L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE action = 'platform-key-rotated' AND detail LIKE $1", $"{PlatformCertificatesKeyIds.Answers}: %"));

        // Once the overlap ends, the old certId is unknown: a client that never held its certificate refuses what it signed.
        await Eventually.TrueAsync(async () =>
        {
            using var retired = await http.GetAsync($"{PlatformKeys.CertificatePath}?certId={oldCertId}");
            return retired.StatusCode == HttpStatusCode.NotFound;
        }, "the old certId is retired once its overlap ends", Deadline);
        using var fresh = Client(merchant, await http.GetStringAsync(PlatformKeys.CertificatePath));
        var refused = await Assert.ThrowsAsync<NetPayException>(() => fresh.PlatformCertificateAsync(oldCertId));
        Assert.Contains("retired", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(oldCertId, (await http.GetStringAsync(PlatformKeys.CertificatesListPath)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task APageOpenedBeforeThePinTransportKeyRotates_StillPays_AndAPageOpenedAfterSealsToTheNewKey()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var client = Client(merchant);
        // Two consumers, two browsers: each page's form is bound to its own browser's cookie.
        using var early = new TestConsumer(platform);
        using var late = new TestConsumer(platform);
        var admin = await ConsoleSession.PlatformOperatorAsync(platform, "pins" + Suffix(), "platform-admin");
        var beforeId = "pin-before-" + TestMerchant.NewOrderId();
        var before = await client.CreateOrderAsync(new CreateOrder(beforeId, 21_00, GateId: "0102"));
        var pageBefore = await early.OpenAsync(before.PayUrl!.PathAndQuery);
        var checkValue = CheckValueOf(Convert.FromBase64String(pageBefore.TransportKey));

        using var rotated = await RotateAsync(admin, "gateway.pin-transport-ec", checkValue, overlapSeconds: 600);
        PaymentPage? pageAfter = null;
        var afterId = "";
        await Eventually.TrueAsync(async () =>
        {
            afterId = "pin-after-" + TestMerchant.NewOrderId();
            var after = await client.CreateOrderAsync(new CreateOrder(afterId, 22_00, GateId: "0102"));
            pageAfter = await late.OpenAsync(after.PayUrl!.PathAndQuery);
            return pageAfter.TransportKey != pageBefore.TransportKey;
        }, "a new page carries the new PIN transport key", Deadline);
        var paidBefore = await early.PayAsync(pageBefore, Acquirer.TestCard("622202", 1));
        var paidAfter = await late.PayAsync(pageAfter!, Acquirer.TestCard("622202", 1));

        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.True(Order.Paid == (await client.GetOrderAsync(beforeId)).Status, paidBefore);
        Assert.True(Order.Paid == (await client.GetOrderAsync(afterId)).Status, paidAfter);
    }

    [Fact]
    public async Task TheEnvelopeKey_Rotates_ARequestSealedToTheOldCertificateStillOpens_AndANewClientSealsToTheNewOne()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var early = Client(merchant, seal: true);
        await early.CreateOrderAsync(new CreateOrder("env-first-" + TestMerchant.NewOrderId(), 5_00));
        var oldEnvelope = await early.PlatformEnvelopeCertificateAsync();
        var admin = await ConsoleSession.PlatformOperatorAsync(platform, "envs" + Suffix(), "platform-admin");

        using var rotated = await RotateAsync(admin, "gateway.envelope", CheckValueOf(oldEnvelope.PublicKey.ExportSubjectPublicKeyInfo()), overlapSeconds: 600);
        // A new client is given the new certificate once the replica it reaches has read the new version (within its key
        // cache's time); until then it is given the old one, which still opens.
        var late = Client(merchant, seal: true);
        await Eventually.TrueAsync(async () =>
        {
            if (V1Signature.CertIdOf(await late.PlatformEnvelopeCertificateAsync()) != V1Signature.CertIdOf(oldEnvelope))
            {
                return true;
            }
            late.Dispose();
            late = Client(merchant, seal: true);
            return false;
        }, "a new client is given the new envelope certificate", Deadline);
        using var lateClient = late;
        var sealedToOld = await early.CreateOrderAsync(new CreateOrder("env-old-" + TestMerchant.NewOrderId(), 6_00));
        var sealedToNew = await late.CreateOrderAsync(new CreateOrder("env-new-" + TestMerchant.NewOrderId(), 7_00));
        var newEnvelope = await late.PlatformEnvelopeCertificateAsync();
        var listed = await http.GetStringAsync(PlatformKeys.CertificatesListPath);

        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.Equal(("created", "created"), (sealedToOld.Status, sealedToNew.Status));
        Assert.NotEqual(V1Signature.CertIdOf(oldEnvelope), V1Signature.CertIdOf(newEnvelope));
        Assert.True(PlatformKeys.IsIssuedBy(newEnvelope, await late.PlatformIssuingCertificateAsync()));
        Assert.Contains(V1Signature.CertIdOf(oldEnvelope), listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NobodyButAPlatformAdmin_RotatesAPlatformKey_AndTheRotationCredentialDoesNothingElse()
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var before = await http.GetStringAsync(PlatformKeys.FilesCertificatePath);
        var checkValue = CheckValueOf(X509Certificate2.CreateFromPem(before).PublicKey.ExportSubjectPublicKeyInfo());
        var reader = await ConsoleSession.PlatformOperatorAsync(platform, "keyread" + Suffix(), "platform-operator");
        var (paymentPath, paymentChannel) = await HsmCaller.ConnectAsync(platform, "gateway");
        var (rotation, rotationChannel) = await HsmCaller.ConnectAsync(platform, "gateway-keys");
        using var _ = paymentChannel;
        using var __ = rotationChannel;
        var request = new RotateKeyPairRequest { KeyId = PlatformCertificatesKeyIds.Files, CurrentCheckValue = checkValue, OverlapSeconds = 60 };

        using var byReader = await RotateAsync(reader, PlatformCertificatesKeyIds.Files, checkValue, overlapSeconds: 60);
        var byPaymentPath = await Assert.ThrowsAsync<RpcException>(() => paymentPath.RotateKeyPairAsync(request).ResponseAsync);
        var signByRotation = await Assert.ThrowsAsync<RpcException>(() => rotation.SignAsync(new SignRequest
        {
            KeyId = PlatformCertificatesKeyIds.Answers,
            Data = Google.Protobuf.ByteString.CopyFromUtf8("forged"),
            Scheme = SignatureScheme.EcdsaP256Sha256,
        }).ResponseAsync);
        var zoneKeyByRotation = await Assert.ThrowsAsync<RpcException>(() => rotation.RotateKeyPairAsync(new RotateKeyPairRequest
        {
            KeyId = "gateway.zpk",
            CurrentCheckValue = "000000",
            OverlapSeconds = 60,
        }).ResponseAsync);
        var longOverlap = await Assert.ThrowsAsync<RpcException>(() => rotation.RotateKeyPairAsync(new RotateKeyPairRequest
        {
            KeyId = PlatformCertificatesKeyIds.Files,
            CurrentCheckValue = checkValue,
            OverlapSeconds = 31 * 24 * 3600,
        }).ResponseAsync);

        Assert.Equal(HttpStatusCode.Forbidden, byReader.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, byPaymentPath.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, signByRotation.StatusCode);
        Assert.Equal("04", HsmCaller.ErrorCode(zoneKeyByRotation));
        Assert.Equal("15", HsmCaller.ErrorCode(longOverlap));
        Assert.Equal(before, await http.GetStringAsync(PlatformKeys.FilesCertificatePath));
    }

    /// <summary>The Hsm's check value of a key pair's version: the first 5 bytes of the SHA-256 of its public key (the certId is the first 8).</summary>
    private static string CheckValueOf(byte[] subjectPublicKeyInfo) => Convert.ToHexString(SHA256.HashData(subjectPublicKeyInfo), 0, 5);

    private HttpClient Https() => new(new HttpClientHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
    })
    { BaseAddress = platform.App.GetEndpoint("gateway", "https") };

    private async Task<HttpResponseMessage> RotateAsync(ConsoleSession session, string keyId, string currentCheckValue, int overlapSeconds)
    {
        using var https = Https();
        return await PayoutTests.SendAsync(https, HttpMethod.Post, $"/ops/keys/{keyId}/rotate", session,
            ("currentCheckValue", currentCheckValue), ("overlapSeconds", overlapSeconds.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>A /v1 order's answer as it comes over the wire: its fields, certId and signature.</summary>
    private static async Task<JsonElement> RawAnswerAsync(HttpClient http, TestMerchant merchant)
    {
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, TestMerchant.NewOrderId(), 3_00)));
        created.EnsureSuccessStatusCode();
        return await created.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string Suffix() => RandomNumberGenerator.GetInt32(100_000, 999_999).ToString(CultureInfo.InvariantCulture);

    /// <summary>The gateway's platform key ids (Gateway/Platform/PlatformCertificates.cs), as an operator names them.</summary>
    private static class PlatformCertificatesKeyIds
    {
        public const string Answers = "gateway.signing";
        public const string Files = "gateway.files";
    }
}
