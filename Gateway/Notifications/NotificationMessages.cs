using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Outbox;
using Mesh.Gateway.Pages;
using Mesh.Gateway.Platform;
using Mesh.Gateway.Refunds;
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
    string? PinnedSha256)
{
    /// <summary>
    /// Whether it is a NetPay refund's result: it goes to the refund's own ReturnURL, as NetPay sends it, and never to the order's
    /// BgRetUrl, where a payment's handler would book it as money received.
    /// </summary>
    public bool IsNetPayRefundResult => OrderProtocol == Orders.OrderProtocol.NetPay && Event.Kind == RefundKind.Refund;

    /// <summary>Where it goes: a NetPay refund's result to its ReturnURL (none if it had none), the rest to the order's BgRetUrl or backUrl.</summary>
    public string? Url => IsNetPayRefundResult ? Event.NetPayRefund?.ReturnUrl : BgRetUrl;
}

/// <summary>
/// A notification as it goes on the wire. Plain: NetPay's form fields and checkvalue for NetPay
/// orders (a refund's result in the fields NetPay posts to the refund's ReturnURL), or JSON signed in the <c>Mesh-Signature</c> header (ECDSA P-256 SHA-256 over the body, by
/// the platform's answers key) for /v1 orders. Envelope: that message encrypted to the merchant: CMS
/// EnvelopedData (AES-256-CBC, RSA-OAEP-SHA256) when the merchant gave a certificate, else a compact
/// JWE (RFC 7516: RSA-OAEP-256, A256GCM, <c>application/jose</c>). Every message carries the notification id
/// (stable across attempts, for dedupe) and the order's version (a late duplicate cannot roll a
/// state back). Both are inside what the platform signs: the /v1 body is signed whole; a NetPay
/// form, whose <c>checkvalue</c> covers only NetPay's own fields, also carries <c>certId</c> and
/// <c>signature</c>, the platform certificate's /v1 signature over every other field of the form
/// (<c>NotificationId</c> and <c>OrderVersion</c> included), which legacy NetPay parsers ignore.
/// </summary>
public sealed class NotificationMessages(NetPaySignature netPay, CanonicalSignature canonical, HsmSession hsm, PlatformCertificates platform, TimeProvider time)
{
    public const string NotificationIdHeader = "Mesh-Notification-Id";
    public const string OrderVersionHeader = "Mesh-Order-Version";
    public const string SignatureHeader = "Mesh-Signature";
    public const string CertIdHeader = "Mesh-Cert-Id";
    public const string EnvelopedTypeHeader = "Mesh-Enveloped-Content-Type";
    public const string EnvelopeJoseType = "application/jose";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<HttpRequestMessage> BuildAsync(PendingNotification n, CancellationToken ct)
    {
        var (body, contentType) = n.IsNetPayRefundResult ? await NetPayRefundResultAsync(n, ct)
            : n.OrderProtocol == OrderProtocol.NetPay ? await NetPayFormAsync(n, ct)
            : V1Json(n);
        var request = new HttpRequestMessage(HttpMethod.Post, n.Url);
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
                CheckValue = key.CheckValue,
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
        var amount = e.AmountMinor.ToString("D12", CultureInfo.InvariantCulture);
        var transType = n.TransType;
        var status = e.Status == OrderStatus.Paid ? OrderAnswers.NetPayPaid : OrderAnswers.NetPayNotPaid;
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
        return await SignedFormAsync(fields, ct);
    }

    /// <summary>
    /// A NetPay refund's result, as NetPay posts it to the refund's ReturnURL: <c>ResponseCode, MerID, OrderId, TransType,
    /// RefundAmout</c> (NetPay's spelling)<c>, ProcessDate, SendTime, Status</c> (3 succeeded, 8 failed)<c>, Priv1, CheckValue</c>,
    /// CheckValue signed as the refund's answer was; then <c>NotificationId</c>, <c>OrderVersion</c> and the /v1 signature.
    /// </summary>
    private async Task<(byte[] Body, string ContentType)> NetPayRefundResultAsync(PendingNotification n, CancellationToken ct)
    {
        var e = n.Event;
        var refund = e.NetPayRefund!;
        var amount = e.AmountMinor.ToString("D12", CultureInfo.InvariantCulture);
        var status = e.Status == RefundStatus.Succeeded ? NetPayRefundApi.Succeeded : NetPayRefundApi.Failed;
        var checkValue = await netPay.SignAsync(NetPaySignature.RefundAnswerText(e.MerchantId, refund.ProcessDate, refund.TransType, e.OrderId, amount, status,
            refund.Priv1), ct);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ResponseCode"] = NetPayRefundApi.Accepted,
            ["MerID"] = e.MerchantId,
            ["OrderId"] = e.OrderId,
            ["TransType"] = refund.TransType,
            ["RefundAmout"] = amount,
            ["ProcessDate"] = refund.ProcessDate,
            ["SendTime"] = NetPayRefundApi.SendTime(time.GetUtcNow()),
            ["Status"] = status,
            ["Priv1"] = refund.Priv1,
            ["CheckValue"] = checkValue,
            ["NotificationId"] = n.NotificationId.ToString(CultureInfo.InvariantCulture),
            ["OrderVersion"] = e.OrderVersion.ToString(CultureInfo.InvariantCulture),
        };
        return await SignedFormAsync(fields, ct);
    }

    /// <summary>The form with <c>certId</c> and the platform certificate's /v1 <c>signature</c> over every other field.</summary>
    private async Task<(byte[] Body, string ContentType)> SignedFormAsync(Dictionary<string, string> fields, CancellationToken ct)
    {
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
            [e.Kind == RefundKind.Refund ? "refundAmt" : "txnAmt"] = e.AmountMinor.ToString(CultureInfo.InvariantCulture),
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
        var spki = n.MerchantSpki ?? throw new InvalidOperationException($"merchant {n.Event.MerchantId} takes envelopes and has no key");
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(spki, out _);
        // kid: the merchant key's id as a certId is made (the first 16 hex digits of the SHA-256 of its public key).
        var kid = Convert.ToHexStringLower(SHA256.HashData(spki))[..16];
        var token = Jose.JWT.EncodeBytes(message, rsa, Jose.JweAlgorithm.RSA_OAEP_256, Jose.JweEncryption.A256GCM,
            extraHeaders: new Dictionary<string, object> { ["kid"] = kid });
        return (Encoding.ASCII.GetBytes(token), EnvelopeJoseType);
    }
}
