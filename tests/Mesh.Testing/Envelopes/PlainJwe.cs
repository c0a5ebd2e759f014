using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Mesh.Testing;

/// <summary>
/// RFC 7516 compact JWE with <c>RSA-OAEP-256</c> and <c>A256GCM</c>, written from the RFC with
/// System.Security.Cryptography alone and no JOSE library: what a merchant's own code (or another
/// language's library) sends. The tests seal with it to prove the platform reads standard JWE,
/// not only what jose-jwt writes, and open with it to prove the SDK writes standard JWE.
/// </summary>
public static class PlainJwe
{
    /// <summary>BASE64URL(header) . BASE64URL(RSA-OAEP-256(CEK)) . BASE64URL(IV) . BASE64URL(ciphertext) . BASE64URL(tag), AAD = ASCII(BASE64URL(header)).</summary>
    public static string Seal(byte[] plaintext, RSA recipient, string protectedHeaderJson)
    {
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(protectedHeaderJson));
        var contentKey = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(12);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[16];
        using (var gcm = new AesGcm(contentKey, 16))
        {
            gcm.Encrypt(iv, plaintext, ciphertext, tag, Encoding.ASCII.GetBytes(header));
        }
        var encryptedKey = recipient.Encrypt(contentKey, RSAEncryptionPadding.OaepSHA256);
        return string.Join('.', header, Base64Url.EncodeToString(encryptedKey), Base64Url.EncodeToString(iv), Base64Url.EncodeToString(ciphertext),
            Base64Url.EncodeToString(tag));
    }

    /// <summary>The protected header and the plaintext of a compact JWE sealed to <paramref name="privateKey"/>.</summary>
    public static (string Header, byte[] Plaintext) Open(string compact, RSA privateKey)
    {
        var parts = compact.Split('.');
        if (parts.Length != 5)
        {
            throw new CryptographicException("a compact JWE has five parts");
        }
        var contentKey = privateKey.Decrypt(Base64Url.DecodeFromChars(parts[1]), RSAEncryptionPadding.OaepSHA256);
        var ciphertext = Base64Url.DecodeFromChars(parts[3]);
        var plaintext = new byte[ciphertext.Length];
        using var gcm = new AesGcm(contentKey, 16);
        gcm.Decrypt(Base64Url.DecodeFromChars(parts[2]), ciphertext, Base64Url.DecodeFromChars(parts[4]), plaintext, Encoding.ASCII.GetBytes(parts[0]));
        return (Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0])), plaintext);
    }

    /// <summary>The same token with its protected header replaced by <paramref name="protectedHeaderJson"/> (everything else as sealed).</summary>
    public static string WithHeader(string compact, string protectedHeaderJson) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(protectedHeaderJson)) + compact[compact.IndexOf('.', StringComparison.Ordinal)..];
}
