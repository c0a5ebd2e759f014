using System.Security.Cryptography;
using System.Text;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Commands;

/// <summary>
/// AQ: a PIN the consumer's browser encrypted to the platform's PIN-transport key pair becomes a
/// PIN block under a ZPK. The plaintext is <c>nonce|PIN</c>: a ciphertext from another payment
/// session is refused, so a captured one cannot be replayed.
/// </summary>
public sealed class BrowserPins(KeyManagement keys)
{
    public const int SessionNonceLengthMax = 128;
    public const int CiphertextBytesMax = 1024;
    private static readonly byte[] KdfInfo = Encoding.ASCII.GetBytes("mesh pin transport v1");

    public async Task<byte[]> TranslateAsync(TranslatePinFromBrowserRequest request, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.SessionNonce) || request.SessionNonce.Length > SessionNonceLengthMax
            || request.Ciphertext.Length is 0 or > CiphertextBytesMax)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "a session nonce and a ciphertext are required");
        }
        if (request.DestinationFormat is not (Contracts.Hsm.PinBlockFormat.Iso3 or Contracts.Hsm.PinBlockFormat.Iso4))
        {
            // A browser PIN becomes a randomly filled block only: the transport key is public and the
            // nonce the caller's, so a deterministic format (0) would let the caller build a table of
            // every PIN's block for a card and read the PIN of any block it is handed.
            throw new HsmException(HsmErrorCode.InvalidPinBlockFormat, "a browser PIN becomes an ISO format 3 or 4 block (random fill)");
        }
        // The version the page was given: a page opened before a rotation still seals to the previous one until it retires.
        var transport = await keys.RequireVersionAsync(request.TransportKeyId, KeyType.PinTransport, request.TransportCheckValue, ct);
        var zpk = await keys.RequireAsync(request.DestinationZpkId, KeyType.Zpk, ct);
        var plaintext = request.Scheme switch
        {
            BrowserPinScheme.RsaOaepSha256 => DecryptRsa(transport, request.Ciphertext.Span),
            BrowserPinScheme.EcdhP256AesGcm => DecryptEcdh(transport, request),
            _ => throw new HsmException(HsmErrorCode.InvalidInput, "unknown browser PIN scheme"),
        };
        try
        {
            var pin = ReadPin(plaintext, request.SessionNonce);
            var pan = string.IsNullOrEmpty(request.Pan) ? null : request.Pan;
            return PinAndMac.WritePin(zpk, pin, (Crypto.PinBlockFormat)request.DestinationFormat, pan);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static byte[] DecryptRsa(HeldKey transport, ReadOnlySpan<byte> ciphertext)
    {
        if (transport.Pair is not RSA rsa)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"{transport.KeyId} is not an RSA key pair");
        }
        try
        {
            return rsa.Decrypt(ciphertext.ToArray(), RSAEncryptionPadding.OaepSHA256);
        }
        catch (CryptographicException)
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "the PIN ciphertext does not decrypt under the transport key");
        }
    }

    private static byte[] DecryptEcdh(HeldKey transport, TranslatePinFromBrowserRequest request)
    {
        if (request.EphemeralPublicKey.Length != 65 || request.EphemeralPublicKey[0] != 0x04 || request.Iv.Length != 12
            || request.Ciphertext.Length <= 16)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "ECDH needs a 65-byte uncompressed P-256 point, a 12-byte IV and ciphertext with its tag");
        }
        var ecdh = transport.Agreement;
        byte[] shared;
        try
        {
            using var peer = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = request.EphemeralPublicKey.Span[1..33].ToArray(), Y = request.EphemeralPublicKey.Span[33..].ToArray() },
            });
            shared = ecdh.DeriveRawSecretAgreement(peer.PublicKey);
        }
        catch (CryptographicException)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "the ephemeral public key is not a P-256 point");
        }
        var aesKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, salt: [], info: KdfInfo);
        CryptographicOperations.ZeroMemory(shared);
        var sealedBytes = request.Ciphertext.Span;
        var plaintext = new byte[sealedBytes.Length - 16];
        try
        {
            using var gcm = new AesGcm(aesKey, 16);
            gcm.Decrypt(request.Iv.Span, sealedBytes[..^16], sealedBytes[^16..], plaintext, Encoding.UTF8.GetBytes(request.SessionNonce));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "the PIN ciphertext fails its authentication");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(aesKey);
        }
    }

    private static string ReadPin(byte[] plaintext, string sessionNonce)
    {
        var nonce = Encoding.UTF8.GetBytes(sessionNonce);
        if (plaintext.Length <= nonce.Length + 1 || !plaintext.AsSpan(0, nonce.Length).SequenceEqual(nonce) || plaintext[nonce.Length] != (byte)'|')
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "the PIN was encrypted for another session");
        }
        var digits = plaintext.AsSpan(nonce.Length + 1);
        if (digits.Length is < PinBlocks.PinLengthMin or > PinBlocks.PinLengthMax || digits.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            throw new HsmException(HsmErrorCode.PinLength, $"a PIN is {PinBlocks.PinLengthMin} to {PinBlocks.PinLengthMax} digits");
        }
        return Encoding.ASCII.GetString(digits);
    }
}
