using System.Security.Cryptography;

namespace Mesh.Hsm.Crypto;

/// <summary>ISO 9564-1 PIN block formats the Hsm speaks.</summary>
public enum PinBlockFormat
{
    Iso0 = 0,
    Iso1 = 1,
    Iso3 = 3,
    /// <summary>AES, 16-byte block: AES(K, AES(K, PIN field) XOR PAN field).</summary>
    Iso4 = 4,
}

/// <summary>
/// Builds and reads clear ISO 9564-1 PIN blocks. Clear blocks exist only inside the Hsm, for the
/// moment between decrypting under one key and encrypting under another.
/// </summary>
public static class PinBlocks
{
    public const int PinLengthMin = 4;
    public const int PinLengthMax = 12;

    public static int BlockBytes(PinBlockFormat format) => format == PinBlockFormat.Iso4 ? 16 : 8;

    public static bool NeedsPan(PinBlockFormat format) => format is PinBlockFormat.Iso0 or PinBlockFormat.Iso3 or PinBlockFormat.Iso4;

    /// <summary>An 8-byte clear block of format 0, 1 or 3.</summary>
    public static byte[] BuildClear(PinBlockFormat format, string pin, string? pan)
    {
        CheckPin(pin);
        var nibbles = new byte[16];
        nibbles[0] = (byte)format;
        nibbles[1] = (byte)pin.Length;
        for (var i = 0; i < pin.Length; i++)
        {
            nibbles[2 + i] = (byte)(pin[i] - '0');
        }
        for (var i = 2 + pin.Length; i < 16; i++)
        {
            nibbles[i] = format switch
            {
                PinBlockFormat.Iso0 => 0xF,
                PinBlockFormat.Iso3 => (byte)RandomNumberGenerator.GetInt32(0xA, 0x10),
                PinBlockFormat.Iso1 => (byte)RandomNumberGenerator.GetInt32(0, 0x10),
                _ => throw new HsmException(HsmErrorCode.InvalidPinBlockFormat, "format 4 blocks are built enciphered"),
            };
        }
        var block = Pack(nibbles);
        if (format is PinBlockFormat.Iso0 or PinBlockFormat.Iso3)
        {
            Xor(block, PanField8(pan));
        }
        return block;
    }

    /// <summary>The PIN of an 8-byte clear block of format 0, 1 or 3; error 20 when the block is not one.</summary>
    public static string ReadClear(PinBlockFormat format, ReadOnlySpan<byte> clear, string? pan)
    {
        var block = clear.ToArray();
        if (format is PinBlockFormat.Iso0 or PinBlockFormat.Iso3)
        {
            Xor(block, PanField8(pan));
        }
        var nibbles = Unpack(block);
        if (nibbles[0] != (byte)format)
        {
            throw new HsmException(HsmErrorCode.PinBlockInvalid, "the PIN block is not of the stated format");
        }
        return ReadPinField(nibbles, format switch
        {
            PinBlockFormat.Iso0 => n => n == 0xF,
            PinBlockFormat.Iso3 => n => n >= 0xA,
            _ => _ => true,
        });
    }

    /// <summary>Format 4 under an AES key: AES(K, AES(K, PIN field) XOR PAN field).</summary>
    public static byte[] EncipherIso4(ReadOnlySpan<byte> aesKey, string pin, string? pan)
    {
        CheckPin(pin);
        var nibbles = new byte[32];
        nibbles[0] = 4;
        nibbles[1] = (byte)pin.Length;
        for (var i = 0; i < pin.Length; i++)
        {
            nibbles[2 + i] = (byte)(pin[i] - '0');
        }
        for (var i = 2 + pin.Length; i < 16; i++)
        {
            nibbles[i] = 0xA;
        }
        var pinField = Pack(nibbles);
        RandomNumberGenerator.Fill(pinField.AsSpan(8));
        var intermediate = BlockCiphers.AesEncryptBlock(aesKey, pinField);
        Xor(intermediate, PanField16(pan));
        return BlockCiphers.AesEncryptBlock(aesKey, intermediate);
    }

    public static string DecipherIso4(ReadOnlySpan<byte> aesKey, ReadOnlySpan<byte> block, string? pan)
    {
        var intermediate = BlockCiphers.AesDecryptBlock(aesKey, block);
        Xor(intermediate, PanField16(pan));
        var pinField = BlockCiphers.AesDecryptBlock(aesKey, intermediate);
        var nibbles = Unpack(pinField);
        if (nibbles[0] != 4)
        {
            throw new HsmException(HsmErrorCode.PinBlockInvalid, "the PIN block is not of format 4");
        }
        return ReadPinField(nibbles[..16], n => n == 0xA);
    }

    /// <summary>Format 0/3 PAN field: 0000 ‖ the 12 rightmost PAN digits without the check digit.</summary>
    internal static byte[] PanField8(string? pan)
    {
        var digits = CheckPan(pan);
        var nibbles = new byte[16];
        var twelve = digits[^13..^1];
        for (var i = 0; i < 12; i++)
        {
            nibbles[4 + i] = (byte)(twelve[i] - '0');
        }
        return Pack(nibbles);
    }

    /// <summary>Format 4 PAN field: PAN length − 12, the PAN, zero padding to 16 bytes.</summary>
    internal static byte[] PanField16(string? pan)
    {
        var digits = CheckPan(pan);
        var nibbles = new byte[32];
        nibbles[0] = (byte)Math.Max(0, digits.Length - 12);
        var padded = digits.Length < 12 ? digits.PadLeft(12, '0') : digits;
        for (var i = 0; i < padded.Length; i++)
        {
            nibbles[1 + i] = (byte)(padded[i] - '0');
        }
        return Pack(nibbles);
    }

    private static string CheckPan(string? pan)
    {
        if (pan is null || pan.Length is < 13 or > 19 || !pan.All(char.IsAsciiDigit))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "this PIN block format needs the 13 to 19 digit PAN");
        }
        return pan;
    }

    private static void CheckPin(string pin)
    {
        if (pin.Length is < PinLengthMin or > PinLengthMax || !pin.All(char.IsAsciiDigit))
        {
            throw new HsmException(HsmErrorCode.PinLength, $"a PIN is {PinLengthMin} to {PinLengthMax} digits");
        }
    }

    private static string ReadPinField(byte[] nibbles, Func<byte, bool> fillOk)
    {
        var length = nibbles[1];
        if (length is < PinLengthMin or > PinLengthMax)
        {
            throw new HsmException(HsmErrorCode.PinBlockInvalid, "the PIN block holds an impossible PIN length");
        }
        var pin = new char[length];
        for (var i = 0; i < length; i++)
        {
            if (nibbles[2 + i] > 9)
            {
                throw new HsmException(HsmErrorCode.PinBlockInvalid, "the PIN block holds a non-digit");
            }
            pin[i] = (char)('0' + nibbles[2 + i]);
        }
        for (var i = 2 + length; i < 16; i++)
        {
            if (!fillOk(nibbles[i]))
            {
                throw new HsmException(HsmErrorCode.PinBlockInvalid, "the PIN block's fill is wrong for its format");
            }
        }
        return new string(pin);
    }

    private static byte[] Pack(byte[] nibbles)
    {
        var bytes = new byte[nibbles.Length / 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((nibbles[2 * i] << 4) | nibbles[(2 * i) + 1]);
        }
        return bytes;
    }

    private static byte[] Unpack(byte[] bytes)
    {
        var nibbles = new byte[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            nibbles[2 * i] = (byte)(bytes[i] >> 4);
            nibbles[(2 * i) + 1] = (byte)(bytes[i] & 0xF);
        }
        return nibbles;
    }

    private static void Xor(byte[] target, byte[] mask)
    {
        for (var i = 0; i < target.Length; i++)
        {
            target[i] ^= mask[i];
        }
    }
}
