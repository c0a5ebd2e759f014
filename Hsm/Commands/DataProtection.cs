using System.Security.Cryptography;
using System.Text;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Commands;

/// <summary>
/// PANs at rest: AES-256-GCM under a DEK, and an HMAC-SHA256 under a key derived from the DEK so
/// that a stored PAN can be found again without decrypting anything.
/// </summary>
public sealed class DataProtection(KeyManagement keys)
{
    public const int PlaintextBytesMax = 4096;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private static readonly byte[] LookupInfo = Encoding.ASCII.GetBytes("mesh lookup hash v1");

    public async Task<(byte[] Ciphertext, byte[] LookupHash)> EncryptAsync(string dekId, byte[] plaintext, CancellationToken ct)
    {
        if (plaintext.Length is 0 or > PlaintextBytesMax)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"1 to {PlaintextBytesMax} bytes of data");
        }
        var dek = await RequireDekAsync(dekId, ct);
        var output = new byte[NonceBytes + plaintext.Length + TagBytes];
        var nonce = output.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using (var gcm = new AesGcm(dek.Value, TagBytes))
        {
            gcm.Encrypt(nonce, plaintext, output.AsSpan(NonceBytes, plaintext.Length), output.AsSpan(output.Length - TagBytes), Encoding.ASCII.GetBytes(dek.KeyId));
        }
        return (output, LookupHash(dek, plaintext));
    }

    public async Task<byte[]> LookupHashAsync(string dekId, byte[] plaintext, CancellationToken ct)
    {
        if (plaintext.Length is 0 or > PlaintextBytesMax)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"1 to {PlaintextBytesMax} bytes of data");
        }
        return LookupHash(await RequireDekAsync(dekId, ct), plaintext);
    }

    public async Task<byte[]> DecryptAsync(string dekId, byte[] ciphertext, CancellationToken ct)
    {
        var dek = await RequireDekAsync(dekId, ct);
        if (ciphertext.Length <= NonceBytes + TagBytes || ciphertext.Length > NonceBytes + PlaintextBytesMax + TagBytes)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "not a ciphertext of EncryptData");
        }
        var plaintext = new byte[ciphertext.Length - NonceBytes - TagBytes];
        try
        {
            using var gcm = new AesGcm(dek.Value, TagBytes);
            gcm.Decrypt(ciphertext.AsSpan(0, NonceBytes), ciphertext.AsSpan(NonceBytes, plaintext.Length), ciphertext.AsSpan(ciphertext.Length - TagBytes),
                plaintext, Encoding.ASCII.GetBytes(dek.KeyId));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "the ciphertext fails its authentication (tampered, or another DEK)");
        }
        return plaintext;
    }

    private static byte[] LookupHash(HeldKey dek, byte[] plaintext)
    {
        var hashKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, dek.Value, 32, salt: [], info: LookupInfo);
        try
        {
            return HMACSHA256.HashData(hashKey, plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hashKey);
        }
    }

    private async Task<HeldKey> RequireDekAsync(string dekId, CancellationToken ct)
    {
        var dek = await keys.RequireAsync(dekId, KeyType.Dek, ct);
        return dek.Algorithm == KeyAlgorithm.Aes256 ? dek : throw new HsmException(HsmErrorCode.InvalidKeyType, "a DEK is an AES-256 key");
    }
}
