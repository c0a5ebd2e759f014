using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Outbox;
using Mesh.Gateway.Platform;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Notifications;

/// <summary>Everything a notification is made from: the outbox row, the order it reports and how the merchant wants to be told.</summary>
public sealed record PendingNotification(
    long NotificationId,
    int Attempts,
    OutboxEvent Event,
    string OrderProtocol,
    string TransDate,
    string TransType,
    string? GateId,
    string? Priv1,
    string? BgRetUrl,
    string MerchantProtocol,
    byte[]? MerchantSpki,
    string? MerchantCertificatePem,
    string[] AllowList,
    string? PinnedSha256);

/// <summary>
/// A notification as it goes on the wire. Plain: NetPay's form fields and checkvalue for NetPay
/// orders, or JSON signed in the <c>Mesh-Signature</c> header (ECDSA P-256 SHA-256 over the body, by
/// the platform's answers key) for /v1 orders. Envelope: that message encrypted to the merchant: CMS
/// EnvelopedData (AES-256-CBC, RSA-OAEP-SHA256) when the merchant gave a certificate, else
/// RSA-OAEP-SHA256 + AES-256-GCM in a JSON envelope. Every message carries the notification id
/// (stable across attempts, for dedupe) and the order's version (a late duplicate cannot roll a
/// state back). Both are inside what the platform signs: the /v1 body is signed whole; a NetPay
/// form, whose <c>checkvalue</c> covers only NetPay's own fields, also carries <c>certId</c> and
/// <c>signature</c>, the platform certificate's /v1 signature over every other field of the form
/// (<c>NotificationId</c> and <c>OrderVersion</c> included), which legacy NetPay parsers ignore.
/// </summary>
public sealed class NotificationMessages(NetPaySignature netPay, CanonicalSignature canonical, HsmSession hsm, PlatformCertificates platform)
{
    public const string NotificationIdHeader = "Mesh-Notification-Id";
    public const string OrderVersionHeader = "Mesh-Order-Version";
    public const string SignatureHeader = "Mesh-Signature";
    public const string CertIdHeader = "Mesh-Cert-Id";
    public const string EnvelopedTypeHeader = "Mesh-Enveloped-Content-Type";
    public const string EnvelopeJsonType = "application/vnd.mesh.envelope+json";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<HttpRequestMessage> BuildAsync(PendingNotification n, CancellationToken ct)
    {
        var (body, contentType) = n.OrderProtocol == OrderProtocol.NetPay ? await NetPayFormAsync(n, ct) : V1Json(n);
        var request = new HttpRequestMessage(HttpMethod.Post, n.BgRetUrl);
        request.Headers.Add(NotificationIdHeader, n.NotificationId.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(OrderVersionHeader, n.Event.OrderVersion.ToString(CultureInfo.InvariantCulture));
        if (n.OrderProtocol != OrderProtocol.NetPay)
        {
            var key = await platform.AnswersKeyAsync(ct);
            var signature = await hsm.SignAsync(new SignRequest
            {
                KeyId = PlatformCertificates.AnswersKeyId,
                Data = ByteString.CopyFrom(body),
                Scheme = key.Scheme,
            }, ct);
            request.Headers.Add(SignatureHeader, Convert.ToBase64String(SigningKeys.Published(key.Scheme, signature.Signature.Span)));
            request.Headers.Add(CertIdHeader, key.CertId);
        }
        if (n.MerchantProtocol == "envelope")
        {
            request.Headers.Add(EnvelopedTypeHeader, contentType);
            (body, contentType) = Seal(body, n);
        }
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return request;
    }

    private async Task<(byte[] Body, string ContentType)> NetPayFormAsync(PendingNotification n, CancellationToken ct)
    {
        var e = n.Event;
        var refund = e.Kind == "refund";
        var amount = e.AmountMinor.ToString("D12", CultureInfo.InvariantCulture);
        var transType = refund ? "0002" : n.TransType;
        var status = e.Status is OrderStatus.Paid or "succeeded" ? OrderAnswers.NetPayPaid : OrderAnswers.NetPayNotPaid;
        var checkValue = await netPay.SignAsync(NetPaySignature.AnswerText(e.MerchantId, e.OrderId, amount, e.Currency, n.TransDate, transType, status), ct);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["merid"] = e.MerchantId,
            ["orderno"] = e.OrderId,
            ["transdate"] = n.TransDate,
            ["amount"] = amount,
            ["currencycode"] = e.Currency,
            ["transtype"] = transType,
            ["status"] = status,
            ["checkvalue"] = checkValue,
            ["GateId"] = n.GateId ?? "",
            ["Priv1"] = n.Priv1 ?? "",
            ["NotificationId"] = n.NotificationId.ToString(CultureInfo.InvariantCulture),
            ["OrderVersion"] = e.OrderVersion.ToString(CultureInfo.InvariantCulture),
        };
        var (certId, signature) = await canonical.SignAsync(fields.Select(f => new KeyValuePair<string, string?>(f.Key, f.Value)), ct);
        fields[CanonicalSignature.CertIdField] = certId;
        fields[CanonicalSignature.SignatureField] = signature;
        using var form = new FormUrlEncodedContent(fields);
        return (await form.ReadAsByteArrayAsync(ct), "application/x-www-form-urlencoded");
    }

    private static (byte[] Body, string ContentType) V1Json(PendingNotification n)
    {
        var e = n.Event;
        var fields = new Dictionary<string, string?>
        {
            ["notificationId"] = n.NotificationId.ToString(CultureInfo.InvariantCulture),
            ["kind"] = e.Kind,
            ["merId"] = e.MerchantId,
            ["orderId"] = e.OrderId,
            ["version"] = e.OrderVersion.ToString(CultureInfo.InvariantCulture),
            ["status"] = e.Status,
            [e.Kind == "refund" ? "refundAmt" : "txnAmt"] = e.AmountMinor.ToString(CultureInfo.InvariantCulture),
            ["currencyCode"] = e.Currency,
            ["respCode"] = e.ResponseCode,
            ["maskedPan"] = e.PanMasked,
            ["refundId"] = e.RefundId,
            ["txnDate"] = n.TransDate,
            ["reqReserved"] = n.Priv1,
            ["at"] = OrderAnswers.Timestamp(e.At),
        };
        return (JsonSerializer.SerializeToUtf8Bytes(fields.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value), Json), "application/json");
    }

    private static (byte[] Body, string ContentType) Seal(byte[] message, PendingNotification n)
    {
        if (n.MerchantCertificatePem is { } pem)
        {
            using var certificate = X509Certificate2.CreateFromPem(pem);
            var envelope = new EnvelopedCms(new ContentInfo(message), new AlgorithmIdentifier(new Oid("2.16.840.1.101.3.4.1.42"))); // AES-256-CBC
            envelope.Encrypt(new CmsRecipient(SubjectIdentifierType.IssuerAndSerialNumber, certificate, RSAEncryptionPadding.OaepSHA256));
            return (envelope.Encode(), "application/pkcs7-mime; smime-type=enveloped-data");
        }
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(n.MerchantSpki, out _);
        var key = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(12);
        var ciphertext = new byte[message.Length];
        var tag = new byte[16];
        using (var gcm = new AesGcm(key, 16))
        {
            gcm.Encrypt(iv, message, ciphertext, tag);
        }
        var envelopeJson = JsonSerializer.SerializeToUtf8Bytes(new
        {
            alg = "RSA-OAEP-256",
            enc = "A256GCM",
            encryptedKey = Convert.ToBase64String(rsa.Encrypt(key, RSAEncryptionPadding.OaepSHA256)),
            iv = Convert.ToBase64String(iv),
            ciphertext = Convert.ToBase64String(ciphertext),
            tag = Convert.ToBase64String(tag),
        }, Json);
        CryptographicOperations.ZeroMemory(key);
        return (envelopeJson, EnvelopeJsonType);
    }
}
