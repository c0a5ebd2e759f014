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
/// the merchant's key. <see cref="ReadAsync"/> also reads a notification signed by a key the platform rotated to:
/// it asks <c>certificateById</c> (<see cref="Api.NetPayClient.PlatformCertificateAsync(string, CancellationToken)"/>)
/// for the certificate the notification's certId names.
/// </summary>
public sealed class NotificationReader(X509Certificate2 platformCertificate, RSA platformNetPayKey, RSA? merchantEnvelopeKey = null,
    X509Certificate2? merchantCertificate = null, Func<string, CancellationToken, Task<X509Certificate2>>? certificateById = null)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, X509Certificate2> _byCertId = new(StringComparer.Ordinal);

    /// <summary>Largest body read, in bytes.</summary>
    public const int BodyBytesMax = 64 * 1024;

    /// <summary>Reads one notification: its headers (name → value) and its body.</summary>
    /// <exception cref="NotificationRejectedException">It does not verify, or it is not a notification.</exception>
    public PaymentNotification Read(IReadOnlyDictionary<string, string> headers, string? contentType, byte[] body)
    {
        try
        {
            return ReadKnown(headers, contentType, body);
        }
        catch (UnknownCertIdException)
        {
            throw new NotificationRejectedException("the notification is not signed by the platform certificate");
        }
    }

    private PaymentNotification ReadKnown(IReadOnlyDictionary<string, string> headers, string? contentType, byte[] body) =>
        Read(headers, contentType, body, certId => certId == V1Signature.CertIdOf(platformCertificate) ? platformCertificate
            : _byCertId.TryGetValue(certId ?? "", out var known) ? known
            : throw new UnknownCertIdException(certId ?? ""));

    /// <summary>
    /// Reads one notification as <see cref="Read(IReadOnlyDictionary{string, string}, string?, byte[])"/> does, and when it names a
    /// certId this reader does not hold, fetches that certificate first (a rotation of the platform's key); a certId the
    /// platform no longer uses is refused.
    /// </summary>
    /// <exception cref="NotificationRejectedException">It does not verify, its certId is retired or unknown, or it is not a notification.</exception>
    public async Task<PaymentNotification> ReadAsync(IReadOnlyDictionary<string, string> headers, string? contentType, byte[] body, CancellationToken ct = default)
    {
        try
        {
            return ReadKnown(headers, contentType, body);
        }
        catch (UnknownCertIdException unknown) when (certificateById is not null)
        {
            X509Certificate2 fetched;
            try
            {
                fetched = await certificateById(unknown.CertId, ct);
            }
            catch (Api.NetPayException ex)
            {
                throw new NotificationRejectedException("the notification is not signed by a platform certificate in use", ex);
            }
            if (V1Signature.CertIdOf(fetched) != unknown.CertId)
            {
                throw new NotificationRejectedException("the notification is not signed by the platform certificate");
            }
            _byCertId[unknown.CertId] = fetched;
            return Read(headers, contentType, body);
        }
        catch (UnknownCertIdException)
        {
            throw new NotificationRejectedException("the notification is not signed by the platform certificate");
        }
    }

    /// <summary>A notification signed under a certId this reader does not hold.</summary>
    private sealed class UnknownCertIdException(string certId) : Exception($"certId {certId}")
    {
        public string CertId { get; } = certId;
    }

    private PaymentNotification Read(IReadOnlyDictionary<string, string> headers, string? contentType, byte[] body, Func<string?, X509Certificate2> certificateFor)
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
            ? ReadNetPay(body, certificateFor)
            : ReadV1(body, Header("Mesh-Signature"), Header("Mesh-Cert-Id"), certificateFor);
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

    private static PaymentNotification ReadV1(byte[] body, string? signature, string? certId, Func<string?, X509Certificate2> certificateFor)
    {
        if (signature is null || !Base64.TryDecode(signature, out var signatureBytes) || !PlatformSignature.VerifyData(certificateFor(certId), body, signatureBytes))
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

    private PaymentNotification ReadNetPay(byte[] body, Func<string?, X509Certificate2> certificateFor)
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
        if (!V1Signature.IsPlatformSigned(f.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)), f.GetValueOrDefault(V1Signature.SignatureField),
                certificateFor(f.GetValueOrDefault(V1Signature.CertIdField))))
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
