using System.Security.Cryptography;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Commands;

/// <summary>CC, M6 and M8: PINs move between zones and messages carry MACs.</summary>
public sealed class PinAndMac(KeyManagement keys)
{
    /// <summary>The shortest MAC verified: 8 bytes (ISO 8583 field 128, a full DES/AES block's first half).</summary>
    public const int MacBytesMin = 8;

    /// <summary>
    /// CC: decrypt under the source ZPK, read the PIN, build the destination format, encrypt under
    /// the destination ZPK. The clear PIN lives only in this method's locals.
    /// </summary>
    public async Task<byte[]> TranslatePinAsync(string sourceZpkId, string destinationZpkId, byte[] pinBlock,
        Crypto.PinBlockFormat sourceFormat, Crypto.PinBlockFormat destinationFormat, string? pan, CancellationToken ct)
    {
        var sources = await keys.AcceptedAsync(sourceZpkId, KeyType.Zpk, ct);
        var destination = await keys.RequireAsync(destinationZpkId, KeyType.Zpk, ct);
        CheckFormatFitsKey(destination, destinationFormat);
        CheckFormatChange(sourceFormat, destinationFormat);
        var pin = ReadPin(sources, pinBlock, sourceFormat, pan);
        return WritePin(destination, pin, destinationFormat, pan);
    }

    /// <summary>BA: a clear PIN, given for issuance, as a PIN block under a ZPK.</summary>
    public async Task<byte[]> EncryptClearPinAsync(string zpkId, string pin, Crypto.PinBlockFormat format, string? pan, CancellationToken ct)
    {
        var zpk = await keys.RequireAsync(zpkId, KeyType.Zpk, ct);
        return WritePin(zpk, pin, format, pan);
    }

    public async Task<byte[]> GenerateMacAsync(string keyId, byte[] data, Crypto.MacAlgorithm algorithm, Crypto.MacPadding padding, CancellationToken ct)
    {
        var key = await MacKeyAsync(keyId, algorithm, ct);
        return MessageAuthentication.Compute(algorithm, padding, key.Value, data);
    }

    /// <summary>M8: the MAC verifies under any version of the key accepted now (<see cref="KeySlot.AcceptedAt"/>): a key change stops no traffic.</summary>
    public async Task VerifyMacAsync(string keyId, byte[] data, Crypto.MacAlgorithm algorithm, Crypto.MacPadding padding, byte[] mac, CancellationToken ct)
    {
        var current = await MacKeyAsync(keyId, algorithm, ct);
        foreach (var key in await keys.AcceptedAsync(keyId, current.Type, ct))
        {
            var expected = MessageAuthentication.Compute(algorithm, padding, key.Value, data);
            if (mac.Length >= MacBytesMin && mac.Length <= expected.Length && CryptographicOperations.FixedTimeEquals(expected.AsSpan(0, mac.Length), mac))
            {
                return;
            }
        }
        throw new HsmException(HsmErrorCode.VerificationFailure, "MAC verification failed");
    }

    /// <summary>
    /// The PIN of a block under any of the accepted versions of its ZPK, the current one first. A
    /// block read under the wrong version fails its format's checks (for format 0, a wrong key passes
    /// them about once in 10^13), so the first version that reads it is the one it was made under.
    /// </summary>
    internal static string ReadPin(IReadOnlyList<HeldKey> versions, byte[] block, Crypto.PinBlockFormat format, string? pan)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return ReadPin(versions[i], block, format, pan);
            }
            catch (HsmException ex) when (ex.Code == HsmErrorCode.PinBlockInvalid && i + 1 < versions.Count)
            {
                // Not under this version: the next one.
            }
        }
    }

    /// <summary>
    /// The PIN of a block. Whatever is wrong inside the block (a wrong PAN, a wrong key, a tampered
    /// block) is one error with one message, so a caller learns nothing from which check failed.
    /// </summary>
    internal static string ReadPin(HeldKey zpk, byte[] block, Crypto.PinBlockFormat format, string? pan)
    {
        CheckFormatFitsKey(zpk, format);
        if (block.Length != PinBlocks.BlockBytes(format))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"a format {(int)format} PIN block is {PinBlocks.BlockBytes(format)} bytes");
        }
        try
        {
            return format == Crypto.PinBlockFormat.Iso4
                ? PinBlocks.DecipherIso4(zpk.Value, block, pan)
                : PinBlocks.ReadClear(format, BlockCiphers.DecryptBlocks(zpk.Value, block), pan);
        }
        catch (HsmException ex) when (ex.Code is HsmErrorCode.PinBlockInvalid or HsmErrorCode.PinLength)
        {
            throw new HsmException(HsmErrorCode.PinBlockInvalid, UnreadableBlock);
        }
    }

    public const string UnreadableBlock = "the PIN block does not hold a PIN of its format for that card";

    /// <summary>
    /// A PAN-bound block (formats 0, 3, 4) never becomes format 1, which binds no PAN: that change
    /// would let the PIN be moved to any card and is the first step of known PIN-extraction attacks.
    /// </summary>
    internal static void CheckFormatChange(Crypto.PinBlockFormat source, Crypto.PinBlockFormat destination)
    {
        if (destination == Crypto.PinBlockFormat.Iso1 && source != Crypto.PinBlockFormat.Iso1)
        {
            throw new HsmException(HsmErrorCode.InvalidPinBlockFormat, $"a format {(int)source} block is bound to its card and is not translated into format 1");
        }
    }

    internal static byte[] WritePin(HeldKey zpk, string pin, Crypto.PinBlockFormat format, string? pan)
    {
        CheckFormatFitsKey(zpk, format);
        return format == Crypto.PinBlockFormat.Iso4
            ? PinBlocks.EncipherIso4(zpk.Value, pin, pan)
            : BlockCiphers.EncryptBlocks(zpk.Value, PinBlocks.BuildClear(format, pin, pan));
    }

    /// <summary>
    /// Format 4 is an AES format; formats 0, 1 and 3 are 3DES formats; and the key's policy must name
    /// the format (<see cref="HeldKey.PinBlockFormats"/>), on the way in and out of every command.
    /// </summary>
    private static void CheckFormatFitsKey(HeldKey zpk, Crypto.PinBlockFormat format)
    {
        if (!Enum.IsDefined(format))
        {
            throw new HsmException(HsmErrorCode.InvalidPinBlockFormat, "unknown PIN block format");
        }
        if ((format == Crypto.PinBlockFormat.Iso4) != zpk.IsAes)
        {
            throw new HsmException(HsmErrorCode.InvalidPinBlockFormat, $"format {(int)format} does not fit a {zpk.Algorithm} ZPK");
        }
        if (!zpk.PinBlockFormats.Contains(format))
        {
            throw new HsmException(HsmErrorCode.InvalidPinBlockFormat,
                $"the policy of {zpk.KeyId} allows PIN block formats {string.Join(", ", zpk.PinBlockFormats.Order().Select(f => (int)f))}, not {(int)format}");
        }
    }

    private async Task<HeldKey> MacKeyAsync(string keyId, Crypto.MacAlgorithm algorithm, CancellationToken ct)
    {
        var key = await keys.GetAsync(keyId, ct);
        if (key.Type is not (KeyType.Zak or KeyType.Tak))
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"key {keyId} is a {key.Type}, a MAC needs a ZAK or TAK");
        }
        var fits = algorithm switch
        {
            Crypto.MacAlgorithm.AesCmac => key.IsAes,
            Crypto.MacAlgorithm.Iso9797Alg3 => key.Algorithm == KeyAlgorithm.Tdes2Key,
            _ => !key.IsAes,
        };
        return fits ? key : throw new HsmException(HsmErrorCode.InvalidInput, $"{algorithm} does not fit a {key.Algorithm} key");
    }
}
