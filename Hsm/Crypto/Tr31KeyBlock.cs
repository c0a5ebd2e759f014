using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Crypto;

/// <summary>
/// A key as it travels between institutions, as an ANSI X9.143 / TR-31 key block of version D
/// under an AES key block protection key (the ZMK): a clear header (version, length, key usage,
/// algorithm, mode of use, key version, exportability) bound to the key by a CMAC, so a key's type,
/// use and halves cannot be swapped in transit. The key data (its length in bits, the key, random
/// padding) is encrypted with AES-CBC under a key derived from the KBPK, the CMAC as the IV.
/// Key derivation: NIST SP 800-108 counter mode with AES-CMAC, as X9.143 has it. A received block's
/// mode of use and exportability become uses its key may never serve (<see cref="Unwrapped.ForbiddenUses"/>).
/// </summary>
public static class Tr31KeyBlock
{
    /// <summary>A key taken out of a block, and the uses the block's header forbids it.</summary>
    public sealed record Unwrapped(byte[] Key, IReadOnlySet<KeyUse> ForbiddenUses);

    public const int HeaderChars = 16;
    private const int MacBytes = 16;

    /// <summary>
    /// A zone key's block for the ZMK <paramref name="kbpk"/> (AES): usage and mode from its type, not
    /// exportable onwards (N); a new version of a key the receiver already holds is E (exportable under
    /// a key-encrypting key), so it keeps the uses the receiver's current version has.
    /// </summary>
    public static string Wrap(HeldKey kbpk, HeldKey key, char exportability = 'N')
    {
        CheckKbpk(kbpk);
        var (usage, modes) = UsageOf(key.Type, key.Algorithm);
        return Wrap(kbpk.Value, usage, AlgorithmOf(key.Algorithm), modes[0], exportability, key.Value, null);
    }

    /// <summary>The block for given header fields; <paramref name="padding"/> is random unless given (known-answer tests).</summary>
    internal static string Wrap(byte[] kbpk, string usage, char algorithm, char mode, char exportability, byte[] key, byte[]? padding)
    {
        var clearLength = (2 + key.Length + 15) / 16 * 16;
        var pad = padding ?? RandomNumberGenerator.GetBytes(clearLength - 2 - key.Length);
        if (pad.Length != clearLength - 2 - key.Length)
        {
            throw new ArgumentException("padding to the AES block", nameof(padding));
        }
        byte[] clear = [(byte)(key.Length * 8 >> 8), (byte)(key.Length * 8), .. key, .. pad];
        var length = HeaderChars + (clear.Length * 2) + (MacBytes * 2);
        var header = $"D{length.ToString("D4", CultureInfo.InvariantCulture)}{usage}{algorithm}{mode}00{exportability}0000";
        var (encryptionKey, macKey) = Derive(kbpk);
        var mac = KeyCheckValue.AesCmac(macKey, [.. Encoding.ASCII.GetBytes(header), .. clear]);
        using var aes = Aes.Create();
        aes.Key = encryptionKey;
        var encrypted = aes.EncryptCbc(clear, mac, PaddingMode.None);
        return header + Convert.ToHexString(encrypted) + Convert.ToHexString(mac);
    }

    /// <summary>
    /// The key inside a block, after its CMAC verifies and its header says it is a key of the
    /// <paramref name="type"/> and <paramref name="algorithm"/> the importer expects; anything else is
    /// refused. With it, the uses its mode of use and exportability forbid (<see cref="ForbiddenBy"/>).
    /// </summary>
    public static Unwrapped Unwrap(HeldKey kbpk, string block, KeyType type, KeyAlgorithm algorithm)
    {
        CheckKbpk(kbpk);
        if (block.Length < HeaderChars || block[0] != 'D' || !int.TryParse(block.AsSpan(1, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || length != block.Length || (length - HeaderChars) % 32 != 0 || length < HeaderChars + 64 || !block[HeaderChars..].All(char.IsAsciiHexDigitUpper))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "not a TR-31 key block of version D");
        }
        var header = block[..HeaderChars];
        var (usage, modes) = UsageOf(type, algorithm);
        if (header[5..7] != usage || header[7] != AlgorithmOf(algorithm) || !modes.Contains(header[8]) || header[12..14] != "00")
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType,
                $"the key block holds a key of usage {header[5..7]}, algorithm {header[7]}, mode {header[8]}; a {type} ({algorithm}) is {usage}, {AlgorithmOf(algorithm)}, one of {modes}");
        }
        if (!Exportabilities.Contains(header[11]))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"the key block's exportability is {header[11]}, not one of {Exportabilities}");
        }
        var encrypted = Convert.FromHexString(block[HeaderChars..^(MacBytes * 2)]);
        var mac = Convert.FromHexString(block[^(MacBytes * 2)..]);
        var (encryptionKey, macKey) = Derive(kbpk.Value);
        using var aes = Aes.Create();
        aes.Key = encryptionKey;
        var clear = aes.DecryptCbc(encrypted, mac, PaddingMode.None);
        if (!CryptographicOperations.FixedTimeEquals(KeyCheckValue.AesCmac(macKey, [.. Encoding.ASCII.GetBytes(header), .. clear]), mac))
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "the key block's authenticator does not verify under that ZMK (tampered, or another ZMK)");
        }
        var bits = (clear[0] << 8) | clear[1];
        if (bits != HeldKey.LengthOf(algorithm) * 8 || 2 + (bits / 8) > clear.Length)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "the key block holds a key of another length");
        }
        return new Unwrapped(clear[2..(2 + (bits / 8))], ForbiddenBy(header[8], header[11]));
    }

    /// <summary>Exportability (X9.143): E under a KEK in a key block, S under a KEK in any form, N never.</summary>
    private const string Exportabilities = "ENS";

    /// <summary>
    /// What a block's mode of use and exportability leave out: E (encrypt only) the reading of PIN
    /// blocks, D (decrypt only) their writing, G (generate only) MAC verification, V (verify only) MAC
    /// generation; exportability N any export. B and C allow both directions, E and S export.
    /// </summary>
    private static IReadOnlySet<KeyUse> ForbiddenBy(char modeOfUse, char exportability)
    {
        var forbidden = new HashSet<KeyUse>();
        switch (modeOfUse)
        {
            case 'E':
                forbidden.Add(KeyUse.PinDecrypt);
                break;
            case 'D':
                forbidden.Add(KeyUse.PinEncrypt);
                break;
            case 'G':
                forbidden.Add(KeyUse.MacVerify);
                break;
            case 'V':
                forbidden.Add(KeyUse.MacGenerate);
                break;
        }
        if (exportability == 'N')
        {
            forbidden.Add(KeyUse.Export);
        }
        return forbidden;
    }

    /// <summary>
    /// Key usage and the modes of use a key of that type may arrive with (X9.143): PIN keys P0
    /// (both ways, encrypt or decrypt only), MAC keys M3 (ISO 9797-1 algorithm 3) or M6 (CMAC),
    /// generate and verify or either. The first mode is the one the Hsm sends.
    /// </summary>
    private static (string Usage, string Modes) UsageOf(KeyType type, KeyAlgorithm algorithm) => type switch
    {
        KeyType.Zpk or KeyType.Tpk => ("P0", "BED"),
        KeyType.Zak or KeyType.Tak when algorithm is KeyAlgorithm.Aes128 or KeyAlgorithm.Aes256 => ("M6", "CGV"),
        KeyType.Zak or KeyType.Tak => ("M3", "CGV"),
        _ => throw new HsmException(HsmErrorCode.InvalidKeyType, $"a {type} does not travel in a key block"),
    };

    private static char AlgorithmOf(KeyAlgorithm algorithm) => algorithm is KeyAlgorithm.Aes128 or KeyAlgorithm.Aes256 ? 'A' : 'T';

    private static void CheckKbpk(HeldKey kbpk)
    {
        if (kbpk.Type != KeyType.Zmk || !kbpk.IsAes)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, "TR-31 version D needs an AES ZMK as its key block protection key");
        }
    }

    /// <summary>KBEK and KBMK from the KBPK: CMAC(KBPK, counter ‖ usage (0000 encryption, 0001 MAC) ‖ 00 ‖ algorithm ‖ length in bits).</summary>
    private static (byte[] EncryptionKey, byte[] MacKey) Derive(byte[] kbpk)
    {
        var (algorithm, bits) = kbpk.Length switch
        {
            16 => ((byte)0x02, 128),
            24 => ((byte)0x03, 192),
            _ => ((byte)0x04, 256),
        };
        byte[] DeriveFor(byte usage)
        {
            var key = new List<byte>();
            for (byte counter = 1; key.Count < kbpk.Length; counter++)
            {
                key.AddRange(KeyCheckValue.AesCmac(kbpk, [counter, 0x00, usage, 0x00, 0x00, algorithm, (byte)(bits >> 8), (byte)bits]));
            }
            return [.. key.Take(kbpk.Length)];
        }
        return (DeriveFor(0x00), DeriveFor(0x01));
    }
}
