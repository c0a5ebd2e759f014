using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mesh.NetPay.Envelopes;
using Mesh.NetPay.Notifications;
using Mesh.NetPay.Reconciliation;
using Mesh.NetPay.Signing;

namespace Mesh.NetPayClient.Tests;

/// <summary>Notifications are believed only when the platform signed them, envelopes open only for their recipient, and reconciliation files read exactly.</summary>
public sealed class NotificationAndFileTests : IDisposable
{
    private readonly TestPlatform _platform = new();
    private readonly RSA _merchant = RSA.Create(2048);

    private (Dictionary<string, string> Headers, byte[] Body) V1Notification(string amount = "12800")
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["notificationId"] = "41",
            ["kind"] = "purchase",
            ["merId"] = "808080000000001",
            ["orderId"] = "o-1",
            ["version"] = "2",
            ["status"] = "paid",
            ["txnAmt"] = amount,
            ["currencyCode"] = "CNY",
            ["respCode"] = "00",
            ["maskedPan"] = "622202******0015",
            ["txnDate"] = "20261126",
        });
        var signature = Convert.ToBase64String(_platform.Sign(body));
        return (new() { ["Mesh-Signature"] = signature, ["Mesh-Cert-Id"] = V1Signature.CertIdOf(_platform.Certificate) }, body);
    }

    private NotificationReader Reader => new(_platform.Certificate, _platform.NetPayKey, _merchant);

    [Fact]
    public void AV1Notification_SignedByThePlatform_IsATypedEvent()
    {
        var (headers, body) = V1Notification();

        var n = Reader.Read(headers, "application/json", body);

        Assert.Equal(("41", "purchase", "o-1", 2L, 128_00L, "622202******0015"), (n.NotificationId, n.Kind, n.OrderId, n.OrderVersion, n.AmountMinor, n.MaskedPan));
        Assert.True(n.Succeeded);
    }

    [Fact]
    public void AV1Notification_ChangedInTransit_OrSignedByAnotherKey_IsRefused()
    {
        var (headers, body) = V1Notification();
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("12800", "99999", StringComparison.Ordinal));
        using var stranger = new TestPlatform();
        var otherReader = new NotificationReader(stranger.Certificate, stranger.NetPayKey);

        Assert.Throws<NotificationRejectedException>(() => Reader.Read(headers, "application/json", tampered));
        Assert.Throws<NotificationRejectedException>(() => otherReader.Read(headers, "application/json", body));
    }

    [Fact]
    public async Task AV1Notification_UnderACertIdTheReaderDoesNotHold_IsReadOnceItsCertificateIsFetched_AndRefusedWhenThePlatformHasNone()
    {
        // The platform rotated: the reader pinned the old certificate, the notification names the new one.
        using var pinned = new TestPlatform();
        var (headers, body) = V1Notification();
        var asked = new List<string>();
        var rotated = new NotificationReader(pinned.Certificate, pinned.NetPayKey, certificateById: (certId, _) =>
        {
            asked.Add(certId);
            return Task.FromResult(_platform.Certificate);
        });
        var retired = new NotificationReader(pinned.Certificate, pinned.NetPayKey,
            certificateById: (certId, _) => Task.FromException<System.Security.Cryptography.X509Certificates.X509Certificate2>(
                new Mesh.NetPay.Api.NetPayException($"the platform has no certificate {certId} in use (404)")));
        var lying = new NotificationReader(pinned.Certificate, pinned.NetPayKey, certificateById: (_, _) => Task.FromResult(pinned.Certificate));

        var n = await rotated.ReadAsync(headers, "application/json", body);
        var again = await rotated.ReadAsync(headers, "application/json", body);

        Assert.Equal(("41", 128_00L), (n.NotificationId, n.AmountMinor));
        Assert.Equal(n, again);
        Assert.Equal([V1Signature.CertIdOf(_platform.Certificate)], asked);
        Assert.Throws<NotificationRejectedException>(() => new NotificationReader(pinned.Certificate, pinned.NetPayKey).Read(headers, "application/json", body));
        await Assert.ThrowsAsync<NotificationRejectedException>(() => retired.ReadAsync(headers, "application/json", body));
        // A certificate served under another certId than the one asked for is not believed.
        await Assert.ThrowsAsync<NotificationRejectedException>(() => lying.ReadAsync(headers, "application/json", body));
    }

    /// <summary>
    /// A NetPay notification as the gateway sends it: NetPay's fields with checkvalue (the PGID key),
    /// NotificationId and OrderVersion, and certId and signature (the platform certificate over every
    /// other field); then <paramref name="changed"/> is applied, as by someone in between.
    /// </summary>
    private byte[] NetPayNotification(string amount = "000000012800", params (string Name, string Value)[] changed)
    {
        var text = string.Concat("808080000000001", "2026112600000001", "000000012800", "156", "20261126", "0001", "1001");
        var fields = new Dictionary<string, string?>
        {
            ["merid"] = "808080000000001",
            ["orderno"] = "2026112600000001",
            ["transdate"] = "20261126",
            ["amount"] = amount,
            ["currencycode"] = "156",
            ["transtype"] = "0001",
            ["status"] = "1001",
            ["checkvalue"] = Convert.ToHexString(_platform.NetPayKey.SignData(Encoding.UTF8.GetBytes(text), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1)),
            ["GateId"] = "0102",
            ["Priv1"] = "tea shop",
            ["NotificationId"] = "7",
            ["OrderVersion"] = "2",
        };
        _platform.Signed(fields);
        foreach (var (name, value) in changed)
        {
            fields[name] = value;
        }
        using var form = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value ?? "")));
        return form.ReadAsByteArrayAsync().GetAwaiter().GetResult();
    }

    private PaymentNotification ReadForm(byte[] body, Dictionary<string, string>? headers = null) =>
        Reader.Read(headers ?? [], "application/x-www-form-urlencoded", body);

    /// <summary>A NetPay refund's result as the gateway posts it to the refund's ReturnURL (NetPay's refund fields, Status 3 or 8).</summary>
    private byte[] NetPayRefundResult(string status, params (string Name, string Value)[] changed)
    {
        var text = string.Concat("808080000000001", "20261126", "0102", "2026112600000001", "000000003000", status, "rf-1");
        var fields = new Dictionary<string, string?>
        {
            ["ResponseCode"] = "0",
            ["MerID"] = "808080000000001",
            ["OrderId"] = "2026112600000001",
            ["TransType"] = "0102",
            ["RefundAmout"] = "000000003000",
            ["ProcessDate"] = "20261126",
            ["SendTime"] = "103015",
            ["Status"] = status,
            ["Priv1"] = "rf-1",
            ["CheckValue"] = Convert.ToHexString(_platform.NetPayKey.SignData(Encoding.UTF8.GetBytes(text), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1)),
            ["NotificationId"] = "9",
            ["OrderVersion"] = "3",
        };
        _platform.Signed(fields);
        foreach (var (name, value) in changed)
        {
            fields[name] = value;
        }
        using var form = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value ?? "")));
        return form.ReadAsByteArrayAsync().GetAwaiter().GetResult();
    }

    [Fact]
    public void ANetPayRefundsResult_IsARefund_Succeeded3_Failed8_NeverAPaidPurchase_AndATamperedOneIsRefused()
    {
        var succeeded = ReadForm(NetPayRefundResult("3"));
        var failed = ReadForm(NetPayRefundResult("8"));

        Assert.Equal((PaymentNotification.Refund, "2026112600000001", 30_00L, "9", 3L, true), (succeeded.Kind, succeeded.OrderId, succeeded.AmountMinor,
            succeeded.NotificationId, succeeded.OrderVersion, succeeded.Succeeded));
        Assert.Equal((PaymentNotification.Refund, false), (failed.Kind, failed.Succeeded));
        Assert.Throws<NotificationRejectedException>(() => ReadForm(NetPayRefundResult("8", ("Status", "3"))));
        Assert.Throws<NotificationRejectedException>(() => ReadForm(NetPayRefundResult("3", ("NotificationId", "10"))));
    }

    [Fact]
    public void ANetPayNotification_IsCheckedAgainstThePgidKey_AndATamperedAmountIsRefused()
    {
        var n = ReadForm(NetPayNotification());

        Assert.Equal(("7", "purchase", 128_00L, 2L, "tea shop", "netpay"), (n.NotificationId, n.Kind, n.AmountMinor, n.OrderVersion, n.ReqReserved, n.Protocol));
        Assert.True(n.Succeeded);
        Assert.Throws<NotificationRejectedException>(() => ReadForm(NetPayNotification("000000099999")));
    }

    [Theory]
    [InlineData("NotificationId", "8")] // a new id: the merchant's inbox would handle a replay again
    [InlineData("OrderVersion", "9")] // a higher version: an old "paid" would overrule a later "refunded"
    [InlineData("NotificationId", "")]
    public void ANetPayNotification_WithItsIdOrVersionChanged_IsRefused_ThoughItsCheckvalueStillVerifies(string field, string value)
    {
        var tampered = NetPayNotification(changed: (field, value));

        var refused = Assert.Throws<NotificationRejectedException>(() => ReadForm(tampered));
        Assert.Contains("not signed", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANetPayNotification_WithoutThePlatformCertificatesSignature_IsRefused()
    {
        var unsigned = NetPayNotification(changed: [("signature", ""), ("certId", "")]);

        Assert.Throws<NotificationRejectedException>(() => ReadForm(unsigned));
    }

    [Fact]
    public void NotificationHeaders_ThatDisagreeWithTheSignedIdOrVersion_AreRefused()
    {
        var (headers, body) = V1Notification();
        headers["Mesh-Notification-Id"] = "41";
        headers["Mesh-Order-Version"] = "2";
        Assert.Equal("41", Reader.Read(headers, "application/json", body).NotificationId);

        headers["Mesh-Order-Version"] = "3";
        Assert.Throws<NotificationRejectedException>(() => Reader.Read(headers, "application/json", body));
        Assert.Throws<NotificationRejectedException>(() => ReadForm(NetPayNotification(), new() { ["Mesh-Notification-Id"] = "99" }));
    }

    [Fact]
    public void AV1Notification_WithItsIdOrVersionChanged_IsRefused()
    {
        var (headers, body) = V1Notification();
        var text = Encoding.UTF8.GetString(body);

        Assert.Throws<NotificationRejectedException>(() =>
            Reader.Read(headers, "application/json", Encoding.UTF8.GetBytes(text.Replace("\"notificationId\":\"41\"", "\"notificationId\":\"42\"", StringComparison.Ordinal))));
        Assert.Throws<NotificationRejectedException>(() =>
            Reader.Read(headers, "application/json", Encoding.UTF8.GetBytes(text.Replace("\"version\":\"2\"", "\"version\":\"5\"", StringComparison.Ordinal))));
    }

    [Fact]
    public void AnEnvelopedNotification_OpensWithTheMerchantsKey_AndOnlyWithIt()
    {
        var (headers, body) = V1Notification();
        using var merchantPublic = RSA.Create();
        merchantPublic.ImportSubjectPublicKeyInfo(_merchant.ExportSubjectPublicKeyInfo(), out _);
        var sealedBody = Encoding.ASCII.GetBytes(DigitalEnvelope.Seal(body, merchantPublic));
        headers["Mesh-Enveloped-Content-Type"] = "application/json";
        using var otherKey = RSA.Create(2048);

        var n = Reader.Read(headers, DigitalEnvelope.JoseContentType, sealedBody);

        Assert.Equal("41", n.NotificationId);
        Assert.DoesNotContain("622202", Encoding.UTF8.GetString(sealedBody));
        Assert.Throws<NotificationRejectedException>(() =>
            new NotificationReader(_platform.Certificate, _platform.NetPayKey, otherKey).Read(headers, DigitalEnvelope.JoseContentType, sealedBody));
    }

    [Fact]
    public void TheSdksJwe_IsStandardRfc7516_OpenedByPlainCode_WithItsHeaderNamingTheKey()
    {
        var token = DigitalEnvelope.Seal("{\"merId\":\"808080000000001\"}"u8.ToArray(), _merchant, keyId: "0123456789abcdef");

        var (header, plaintext) = PlainJwe.Open(token, _merchant);

        using var json = JsonDocument.Parse(header);
        Assert.Equal(("RSA-OAEP-256", "A256GCM", "0123456789abcdef"),
            (json.RootElement.GetProperty("alg").GetString(), json.RootElement.GetProperty("enc").GetString(), json.RootElement.GetProperty("kid").GetString()));
        Assert.Equal("{\"merId\":\"808080000000001\"}", Encoding.UTF8.GetString(plaintext));
        Assert.Equal(5, token.Split('.').Length);
    }

    [Fact]
    public void AJweSealedByPlainRfc7516Code_OpensWithTheSdk()
    {
        var token = PlainJwe.Seal("secret"u8.ToArray(), _merchant, """{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"k1"}""");

        Assert.Equal("secret"u8.ToArray(), DigitalEnvelope.Open(Encoding.ASCII.GetBytes(token), _merchant));
    }

    [Fact]
    public void AJwe_WhoseCiphertextOrProtectedHeaderWasTouched_OrOfAnotherAlgorithm_DoesNotOpen()
    {
        var token = DigitalEnvelope.Seal("secret"u8.ToArray(), _merchant, keyId: "k1");
        var parts = token.Split('.');
        var ciphertext = System.Buffers.Text.Base64Url.DecodeFromChars(parts[3]);
        ciphertext[0] ^= 1;
        parts[3] = System.Buffers.Text.Base64Url.EncodeToString(ciphertext);
        var headerChanged = PlainJwe.WithHeader(token, """{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"k2"}""");
        var oaepSha1 = PlainJwe.Seal("secret"u8.ToArray(), _merchant, """{"alg":"RSA-OAEP","enc":"A256GCM"}""");

        Assert.ThrowsAny<CryptographicException>(() => DigitalEnvelope.Open(Encoding.ASCII.GetBytes(string.Join('.', parts)), _merchant));
        Assert.ThrowsAny<CryptographicException>(() => DigitalEnvelope.Open(Encoding.ASCII.GetBytes(headerChanged), _merchant));
        Assert.ThrowsAny<CryptographicException>(() => DigitalEnvelope.Open(Encoding.ASCII.GetBytes(oaepSha1), _merchant));
        Assert.Equal("secret"u8.ToArray(), DigitalEnvelope.Open(Encoding.ASCII.GetBytes(token), _merchant));
    }

    [Fact]
    public async Task ADetailFile_IsReadLineByLine_QuotedFieldsIncluded()
    {
        var csv = ReconciliationFile.DetailHeader + "\n"
            + "2026-11-25,o-1,purchase,12800,100,12700,156,paid,622202******0015,000000000001,2026-11-25T02:00:00.000Z\n"
            + "2026-11-25,\"o,2 \"\"gift\"\"\",refund,3000,0,-3000,156,refunded,622202******0015,,2026-11-25T03:30:00.250Z\n";
        var lines = new List<DetailLine>();
        await foreach (var line in ReconciliationFile.ReadDetailAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv))))
        {
            lines.Add(line);
        }

        Assert.Equal(2, lines.Count);
        Assert.Equal("o,2 \"gift\"", lines[1].OrderId);
        Assert.Equal(12700 - 3000, lines.Sum(l => l.NetMinor));
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 3, 30, 0, 250, TimeSpan.Zero), lines[1].OccurredAt);
    }

    [Fact]
    public async Task AFileOfAnotherKind_OrWithAMissingField_IsRefusedNotMisread()
    {
        async Task ReadAllAsync(string csv)
        {
            await foreach (var _ in ReconciliationFile.ReadDetailAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv))))
            {
            }
        }

        var wrongKind = await Assert.ThrowsAsync<FormatException>(() => ReadAllAsync(ReconciliationFile.TotalsHeader + "\n"));
        var shortLine = await Assert.ThrowsAsync<FormatException>(() => ReadAllAsync(ReconciliationFile.DetailHeader + "\n2026-11-25,o-1,purchase\n"));

        Assert.Contains("header", wrongKind.Message);
        Assert.Contains("line 2", shortLine.Message);
    }

    public void Dispose()
    {
        _platform.Dispose();
        _merchant.Dispose();
    }
}
