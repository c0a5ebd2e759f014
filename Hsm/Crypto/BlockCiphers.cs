using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Mesh.Hsm.Crypto;

/// <summary>Single-block ECB operations of DES, 3DES and AES: the building blocks of PIN blocks and MACs.</summary>
public static class BlockCiphers
{
    public static byte[] EncryptBlocks(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => Process(key, data, forEncryption: true);

    public static byte[] DecryptBlocks(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => Process(key, data, forEncryption: false);

    /// <summary>DES for 8-byte keys, two- or three-key 3DES for 16 or 24 bytes, AES for 32 bytes or an AES-tagged 16.</summary>
    public static IBlockCipher Engine(ReadOnlySpan<byte> key, bool aes) =>
        aes ? new AesEngine() : key.Length == 8 ? new DesEngine() : new DesEdeEngine();

    public static byte[] Process(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, bool forEncryption, bool aes = false)
    {
        var engine = Engine(key, aes);
        engine.Init(forEncryption, new KeyParameter(key.ToArray()));
        var size = engine.GetBlockSize();
        if (data.Length == 0 || data.Length % size != 0)
        {
            throw new ArgumentException($"Data must be whole {size}-byte blocks", nameof(data));
        }
        var input = data.ToArray();
        var output = new byte[input.Length];
        for (var at = 0; at < input.Length; at += size)
        {
            engine.ProcessBlock(input, at, output, at);
        }
        return output;
    }

    public static byte[] AesEncryptBlock(ReadOnlySpan<byte> key, ReadOnlySpan<byte> block) => Process(key, block, true, aes: true);

    public static byte[] AesDecryptBlock(ReadOnlySpan<byte> key, ReadOnlySpan<byte> block) => Process(key, block, false, aes: true);

    /// <summary>DES keys carry odd parity in the low bit of each byte.</summary>
    public static bool HasOddParity(ReadOnlySpan<byte> key)
    {
        foreach (var b in key)
        {
            if ((System.Numerics.BitOperations.PopCount(b) & 1) == 0)
            {
                return false;
            }
        }
        return true;
    }

    public static void SetOddParity(Span<byte> key)
    {
        for (var i = 0; i < key.Length; i++)
        {
            var high = key[i] & 0xFE;
            key[i] = (byte)((System.Numerics.BitOperations.PopCount((uint)high) & 1) == 0 ? high | 1 : high);
        }
    }
}
