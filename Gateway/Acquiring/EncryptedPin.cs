namespace Mesh.Gateway.Acquiring;

/// <summary>
/// A PIN as the payment page sends it: ciphertext only, under the Hsm's PIN-transport key, bound
/// to the payment session's nonce. The gateway never sees the digits. <see cref="TransportCheckValue"/> names the
/// transport key's version the page sealed to (the session's record of it; empty: the current one).
/// </summary>
public sealed record EncryptedPin(string Scheme, byte[] Ciphertext, byte[]? EphemeralPublicKey, byte[]? Iv, string SessionNonce, string TransportCheckValue = "")
{
    public const string Ecdh = "ecdh";
    public const string RsaOaep = "rsa-oaep";
    public const int CiphertextBytesMax = 512;

    /// <summary>Reads the page's base64 fields; null when they are missing or malformed.</summary>
    public static EncryptedPin? Read(string? scheme, string? ciphertext, string? ephemeralKey, string? iv, string nonce)
    {
        var sealedPin = Base64(ciphertext);
        if (sealedPin is null || sealedPin.Length is 0 or > CiphertextBytesMax)
        {
            return null;
        }
        return scheme switch
        {
            Ecdh when Base64(ephemeralKey) is { Length: 65 } point && Base64(iv) is { Length: 12 } nonceBytes =>
                new EncryptedPin(Ecdh, sealedPin, point, nonceBytes, nonce),
            RsaOaep => new EncryptedPin(RsaOaep, sealedPin, null, null, nonce),
            _ => null,
        };
    }

    private static byte[]? Base64(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > CiphertextBytesMax * 2)
        {
            return null;
        }
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
