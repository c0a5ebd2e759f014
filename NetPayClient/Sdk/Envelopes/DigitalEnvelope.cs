using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Mesh.NetPay.Envelopes;

/// <summary>
/// The digital envelopes of the platform's envelope protocol. The JSON envelope
/// (<c>application/vnd.mesh.envelope+json</c>): a fresh AES-256 key encrypts the message with GCM,
/// and the key is encrypted to the recipient's RSA key with OAEP-SHA256:
/// <c>{"alg":"RSA-OAEP-256","enc":"A256GCM","encryptedKey","iv","ciphertext","tag"}</c>, base64.
/// Merchants who gave a certificate receive CMS EnvelopedData instead
/// (<c>application/pkcs7-mime; smime-type=enveloped-data</c>).
/// </summary>
public static class DigitalEnvelope
{
    /// <summary>The JSON envelope's media type.</summary>
    public const string JsonContentType = "application/vnd.mesh.envelope+json";

    /// <summary>The CMS envelope's media type.</summary>
    public const string CmsContentType = "application/pkcs7-mime";

    /// <summary>Largest message opened, in bytes.</summary>
    public const int EnvelopeBytesMax = 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Seals <paramref name="message"/> to <paramref name="recipient"/> in a JSON envelope.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> message, RSA recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var key = RandomNumberGenerator.GetBytes(32);
        try
        {
            var iv = RandomNumberGenerator.GetBytes(12);
            var ciphertext = new byte[message.Length];
            var tag = new byte[16];
            using (var gcm = new AesGcm(key, 16))
            {
                gcm.Encrypt(iv, message, ciphertext, tag);
            }
            return JsonSerializer.SerializeToUtf8Bytes(new Envelope("RSA-OAEP-256", "A256GCM", Convert.ToBase64String(recipient.Encrypt(key, RSAEncryptionPadding.OaepSHA256)),
                Convert.ToBase64String(iv), Convert.ToBase64String(ciphertext), Convert.ToBase64String(tag)), Json);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Opens a JSON envelope sealed to <paramref name="privateKey"/>.</summary>
    /// <exception cref="CryptographicException">It is not such an envelope, or it was not sealed to this key, or it was altered.</exception>
    public static byte[] Open(ReadOnlySpan<byte> envelopeJson, RSA privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        Envelope? envelope;
        try
        {
            envelope = envelopeJson.Length <= EnvelopeBytesMax ? JsonSerializer.Deserialize<Envelope>(envelopeJson, Json) : null;
        }
        catch (JsonException)
        {
            envelope = null;
        }
        if (envelope is not { Alg: "RSA-OAEP-256", Enc: "A256GCM", EncryptedKey: not null, Iv: not null, Ciphertext: not null, Tag: not null })
        {
            throw new CryptographicException("not an RSA-OAEP-256 / A256GCM envelope");
        }
        byte[] key = [];
        try
        {
            key = privateKey.Decrypt(Convert.FromBase64String(envelope.EncryptedKey), RSAEncryptionPadding.OaepSHA256);
            var ciphertext = Convert.FromBase64String(envelope.Ciphertext);
            var message = new byte[ciphertext.Length];
            using var gcm = new AesGcm(key, 16);
            gcm.Decrypt(Convert.FromBase64String(envelope.Iv), ciphertext, Convert.FromBase64String(envelope.Tag), message);
            return message;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new CryptographicException("the envelope's fields are not base64 of the right lengths", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Opens CMS EnvelopedData addressed to <paramref name="certificate"/>, whose private key is <paramref name="privateKey"/>.</summary>
    public static byte[] OpenCms(byte[] envelopedData, X509Certificate2 certificate, RSA privateKey)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var withKey = certificate.CopyWithPrivateKey(privateKey);
        var cms = new EnvelopedCms();
        cms.Decode(envelopedData);
        cms.Decrypt(new X509Certificate2Collection(withKey));
        return cms.ContentInfo.Content;
    }

    private sealed record Envelope(string? Alg, string? Enc, string? EncryptedKey, string? Iv, string? Ciphertext, string? Tag);
}
