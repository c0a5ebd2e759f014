using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Mesh.Testing;

/// <summary>The PIN as the payment page's script seals it, with the parts of the form that carry it.</summary>
public sealed record SealedPin(byte[] Ciphertext, byte[] EphemeralPublicKey, byte[] Iv);

/// <summary>
/// What the payment page's script does with the PIN: ECDH P-256 with the Hsm's transport key,
/// HKDF-SHA256 ("mesh pin transport v1") to an AES-256 key, AES-GCM over <c>nonce|PIN</c> with
/// the session nonce as associated data. Shared by the tests, the benchmarks and the load
/// generator, so that all of them seal it one way.
/// </summary>
public static class PagePinSealing
{
    public static SealedPin Seal(ReadOnlySpan<byte> transportKeySpki, string nonce, string pin)
    {
        using var hsmKey = ECDiffieHellman.Create();
        hsmKey.ImportSubjectPublicKeyInfo(transportKeySpki, out _);
        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, ephemeral.DeriveRawSecretAgreement(hsmKey.PublicKey), 32, [], Encoding.ASCII.GetBytes("mesh pin transport v1"));
        var plaintext = Encoding.ASCII.GetBytes($"{nonce}|{pin}");
        var iv = RandomNumberGenerator.GetBytes(12);
        var sealedPin = new byte[plaintext.Length + 16];
        using (var gcm = new AesGcm(key, 16))
        {
            gcm.Encrypt(iv, plaintext, sealedPin.AsSpan(0, plaintext.Length), sealedPin.AsSpan(plaintext.Length), Encoding.UTF8.GetBytes(nonce));
        }
        var point = ephemeral.ExportParameters(false).Q;
        return new SealedPin(sealedPin, [0x04, .. point.X!, .. point.Y!], iv);
    }

    /// <summary>The form fields the page posts: pinCiphertext, pinEphemeralKey, pinIv (base64).</summary>
    public static void AddTo(IDictionary<string, string> form, SealedPin sealedPin)
    {
        form["pinCiphertext"] = Convert.ToBase64String(sealedPin.Ciphertext);
        form["pinEphemeralKey"] = Convert.ToBase64String(sealedPin.EphemeralPublicKey);
        form["pinIv"] = Convert.ToBase64String(sealedPin.Iv);
    }
}

/// <summary>Where the payment page carries what its script needs: the form's address, its CSRF token, the PIN nonce, the transport key and the scheme.</summary>
public static partial class PaymentPageMarkup
{
    [GeneratedRegex("<form id=\"pay\" method=\"post\" action=\"([^\"]+)\"")]
    public static partial Regex ActionPattern();

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    public static partial Regex CsrfPattern();

    [GeneratedRegex("data-pin-nonce=\"([^\"]+)\"")]
    public static partial Regex NoncePattern();

    [GeneratedRegex("data-transport-key=\"([^\"]+)\"")]
    public static partial Regex KeyPattern();

    [GeneratedRegex("data-pin-scheme=\"([^\"]+)\"")]
    public static partial Regex SchemePattern();

    /// <summary>The one-time code's page (a credit card's bank answered 1A): its form's address.</summary>
    [GeneratedRegex("<form id=\"code\" method=\"post\" action=\"([^\"]+)\"")]
    public static partial Regex CodeActionPattern();
}
