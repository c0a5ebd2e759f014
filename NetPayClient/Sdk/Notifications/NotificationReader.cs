using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Mesh.NetPay.Envelopes;
using Mesh.NetPay.Signing;

namespace Mesh.NetPay.Notifications;

/// <summary>A notification that is not the platform's, or cannot be read.</summary>
public sealed class NotificationRejectedException(string reason) : Exception(reason)
{
    /// <inheritdoc />
    public NotificationRejectedException() : this("the notification was rejected")
    {
    }

    /// <inheritdoc />
    public NotificationRejectedException(string message, Exception inner) : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>
/// Reads a notification as it arrives at the merchant's BgRetUrl and checks it is the
/// platform's: a <c>/v1</c> JSON body against <c>Mesh-Signature</c> (RSA-SHA256 by the platform
/// certificate named in <c>Mesh-Cert-Id</c>), a NetPay form against its <c>checkvalue</c> (the
/// PGID key) and against its <c>signature</c> (the platform certificate's /v1 signature over every
/// other field, named by <c>certId</c>): NetPay's checkvalue does not cover <c>NotificationId</c>
/// and <c>OrderVersion</c>, so they are believed only under that second signature. The
/// <c>Mesh-Notification-Id</c> and <c>Mesh-Order-Version</c> headers are not signed: when present
/// they must agree with the signed values. A digital envelope (JSON or CMS) is opened first with
/// the merchant's key.
/// </summary>
public sealed class NotificationReader(X509Certificate2 platformCertificate, RSA platformNetPayKey, RSA? merchantEnvelopeKey = null,
    X509Certificate2? merchantCertificate = null)
{
    /// <summary>Largest body read, in bytes.</summary>
    public const int BodyBytesMax = 64 * 1024;

    /// <summary>Reads one notification: its headers (name → value) and its body.</summary>
    /// <exception cref="NotificationRejectedException">It does not verify, or it is not a notification.</exception>
    public PaymentNotification Read(IReadOnlyDictionary<string, string> headers, string? contentType, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(body);
        if (body.Length > BodyBytesMax)
        {
            throw new NotificationRejectedException($"a body of more than {BodyBytesMax} bytes");
        }
        string? Header(string name) => headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        contentType ??= "";
        if (contentType.StartsWith(DigitalEnvelope.JoseContentType, StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith(DigitalEnvelope.CmsContentType, StringComparison.OrdinalIgnoreCase))
        {
            body = Open(contentType, body);
            contentType = Header("Mesh-Enveloped-Content-Type") ?? throw new NotificationRejectedException("an envelope without Mesh-Enveloped-Content-Type");
        }
        var notification = contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            ? ReadNetPay(body)
            : ReadV1(body, Header("Mesh-Signature"), Header("Mesh-Cert-Id"));
        if ((Header("Mesh-Notification-Id") is { } id && id != notification.NotificationId)
            || (Header("Mesh-Order-Version") is { } version && version != notification.OrderVersion.ToString(CultureInfo.InvariantCulture)))
        {
            throw new NotificationRejectedException("Mesh-Notification-Id or Mesh-Order-Version differs from the signed notification");
        }
        return notification;
    }

    private byte[] Open(string contentType, byte[] body)
    {
        if (merchantEnvelopeKey is null)
        {
            throw new NotificationRejectedException("an enveloped notification, and no merchant key to open it");
        }
        try
        {
            return contentType.StartsWith(DigitalEnvelope.CmsContentType, StringComparison.OrdinalIgnoreCase)
                ? DigitalEnvelope.OpenCms(body, merchantCertificate ?? throw new NotificationRejectedException("a CMS envelope, and no merchant certificate"),
                    merchantEnvelopeKey)
                : DigitalEnvelope.Open(body, merchantEnvelopeKey);
        }
        catch (CryptographicException ex)
        {
            throw new NotificationRejectedException("the envelope does not open", ex);
        }
    }

    private PaymentNotification ReadV1(byte[] body, string? signature, string? certId)
    {
        if (certId != V1Signature.CertIdOf(platformCertificate) || signature is null || !Base64.TryDecode(signature, out var signatureBytes)
            || !PlatformSignature.VerifyData(platformCertificate, body, signatureBytes))
        {
            throw new NotificationRejectedException("the notification is not signed by the platform certificate");
        }
        Dictionary<string, string> f;
        try
        {
            f = JsonSerializer.Deserialize<Dictionary<string, string>>(body) ?? [];
        }
        catch (JsonException ex)
        {
            throw new NotificationRejectedException("the notification is not a JSON object of strings", ex);
        }
        var kind = Get(f, "kind");
        return new PaymentNotification(Get(f, "notificationId"), kind, Get(f, "merId"), Get(f, "orderId"), Number(Get(f, "version")), Get(f, "status"),
            Number(Get(f, kind == PaymentNotification.Refund ? "refundAmt" : "txnAmt")), Get(f, "currencyCode"), f.GetValueOrDefault("respCode"),
            f.GetValueOrDefault("maskedPan"), f.GetValueOrDefault("refundId"), f.GetValueOrDefault("txnDate") ?? "", f.GetValueOrDefault("reqReserved"), "v1");
    }

    private PaymentNotification ReadNetPay(byte[] body)
    {
        var f = Encoding.UTF8.GetString(body).Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .GroupBy(kv => Uri.UnescapeDataString(kv[0].Replace('+', ' ')), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Uri.UnescapeDataString((g.First().ElementAtOrDefault(1) ?? "").Replace('+', ' ')), StringComparer.Ordinal);
        var refund = f.ContainsKey("RefundAmout");
        if (refund ? !NetPayForm.IsRefundAnswerSigned(f, platformNetPayKey) : !NetPayForm.IsPlatformSigned(f, platformNetPayKey))
        {
            throw new NotificationRejectedException(refund ? "the refund result's CheckValue is not the platform's" : "the notification's checkvalue is not the platform's");
        }
        if (f.GetValueOrDefault(V1Signature.CertIdField) != V1Signature.CertIdOf(platformCertificate)
            || !V1Signature.IsPlatformSigned(f.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)), f.GetValueOrDefault(V1Signature.SignatureField),
                platformCertificate))
        {
            throw new NotificationRejectedException("the notification's NotificationId and OrderVersion are not signed by the platform certificate");
        }
        // A refund's result comes to the refund's ReturnURL in NetPay's refund fields (Status 3 or 8), never as a payment's form.
        return refund
            ? new PaymentNotification(Get(f, "NotificationId"), PaymentNotification.Refund, Get(f, "MerID"), Get(f, "OrderId"), Number(Get(f, "OrderVersion")),
                Get(f, "Status"), Number(Get(f, "RefundAmout")), "156", null, null, null, Get(f, "ProcessDate"), f.GetValueOrDefault("Priv1"), "netpay")
            : new PaymentNotification(Get(f, "NotificationId"), PaymentNotification.Purchase, Get(f, "merid"), Get(f, "orderno"), Number(Get(f, "OrderVersion")),
                Get(f, "status"), Number(Get(f, "amount")), Get(f, "currencycode"), null, null, null, Get(f, "transdate"), f.GetValueOrDefault("Priv1"), "netpay");
    }

    private static string Get(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var value) && value.Length > 0 ? value : throw new NotificationRejectedException($"no {name}");

    private static long Number(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new NotificationRejectedException($"'{text}' is not a number");
}
