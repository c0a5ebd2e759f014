using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;

namespace Mesh.Hsm.Keys;

/// <summary>
/// A key at rest, TR-31-like: a header that binds the key to its id, type, algorithm and policy
/// (its owners and the uses each may make of it), and the key encrypted under a key derived from
/// the LMK with AES-256-GCM, the header as associated data. Changing a byte of header or key makes
/// the block unreadable (the GCM tag is the MAC). Blocks of version M1 (before policies) open with
/// no owners: they serve no command until provisioning or an operator states their policy.
/// Layout: header length (2, big-endian) ‖ header (ASCII) ‖ nonce (12) ‖ encrypted key ‖ tag (16).
/// </summary>
public static class KeyBlock
{
    private const string Version = "M2";
    private const string VersionWithoutPolicy = "M1";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private static readonly byte[] DerivationInfo = Encoding.ASCII.GetBytes("mesh key block encryption v1");

    public static byte[] Seal(ReadOnlySpan<byte> lmk, HeldKey key)
    {
        var header = Encoding.ASCII.GetBytes($"{Version}|{key.KeyId}|{key.Type}|{key.Algorithm}|{key.Policy.Encode()}");
        var block = new byte[2 + header.Length + NonceBytes + key.Value.Length + TagBytes];
        BinaryPrimitives.WriteUInt16BigEndian(block, (ushort)header.Length);
        header.CopyTo(block, 2);
        var nonce = block.AsSpan(2 + header.Length, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var gcm = new AesGcm(DeriveKey(lmk), TagBytes);
        gcm.Encrypt(nonce, key.Value, block.AsSpan(2 + header.Length + NonceBytes, key.Value.Length), block.AsSpan(block.Length - TagBytes), header);
        return block;
    }

    /// <summary>Opens a block for the key it claims to be; a tampered block or another LMK is error 10-class refusal.</summary>
    public static HeldKey Open(ReadOnlySpan<byte> lmk, ReadOnlySpan<byte> block, string keyId)
    {
        if (block.Length < 2 + NonceBytes + TagBytes)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "key block too short");
        }
        var headerLength = BinaryPrimitives.ReadUInt16BigEndian(block);
        var keyLength = block.Length - 2 - headerLength - NonceBytes - TagBytes;
        if (keyLength <= 0)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "key block malformed");
        }
        var header = block.Slice(2, headerLength);
        var parts = Encoding.ASCII.GetString(header).Split('|');
        var fields = parts[0] switch { Version => 5, VersionWithoutPolicy => 4, _ => 0 };
        if (parts.Length != fields || parts[1] != keyId
            || !Enum.TryParse<KeyType>(parts[2], out var type) || !Enum.TryParse<KeyAlgorithm>(parts[3], out var algorithm))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"key block header does not belong to key {keyId}");
        }
        var value = new byte[keyLength];
        try
        {
            using var gcm = new AesGcm(DeriveKey(lmk), TagBytes);
            gcm.Decrypt(block.Slice(2 + headerLength, NonceBytes), block.Slice(2 + headerLength + NonceBytes, keyLength),
                block[^TagBytes..], value, header);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, $"key block of {keyId} fails its authentication (tampered, or another LMK)");
        }
        return new HeldKey(keyId, type, algorithm, value, fields == 5 ? KeyPolicy.Decode(parts[4]) : KeyPolicy.None);
    }

    private static byte[] DeriveKey(ReadOnlySpan<byte> lmk) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, lmk.ToArray(), 32, salt: [], info: DerivationInfo);
}
