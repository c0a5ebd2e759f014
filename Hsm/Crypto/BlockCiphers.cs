using System.Buffers.Binary;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Mesh.Hsm.Crypto;

/// <summary>Single-block ECB operations of DES, 3DES and AES: the building blocks of PIN blocks and MACs.</summary>
public static class BlockCiphers
{
    /// <summary>Keyed engines each thread keeps; past this many, its cache starts again empty.</summary>
    public const int CachedEnginesPerThreadMax = 256;

    /// <summary>
    /// Engines already keyed, per thread (an engine is used by one thread at a time, and every
    /// use here is synchronous): a DES key schedule cost more than the MAC it served (6% of the
    /// Hsm's CPU under load). They hold keys the Hsm already holds in clear (<c>HeldKey</c>).
    /// </summary>
    [ThreadStatic]
    private static Dictionary<EngineKey, IBlockCipher>? _engines;

    private readonly record struct EngineKey(ulong A, ulong B, ulong C, ulong D, int Length, bool Aes, bool ForEncryption);

    /// <summary>An engine keyed with <paramref name="key"/> for one direction, from this thread's cache; for synchronous use only.</summary>
    public static IBlockCipher Keyed(ReadOnlySpan<byte> key, bool forEncryption, bool aes = false)
    {
        if (key.Length > 32)
        {
            return NewKeyed(key, forEncryption, aes);
        }
        Span<byte> padded = stackalloc byte[32];
        padded.Clear();
        key.CopyTo(padded);
        var id = new EngineKey(BinaryPrimitives.ReadUInt64LittleEndian(padded), BinaryPrimitives.ReadUInt64LittleEndian(padded[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(padded[16..]), BinaryPrimitives.ReadUInt64LittleEndian(padded[24..]), key.Length, aes, forEncryption);
        var engines = _engines ??= [];
        if (!engines.TryGetValue(id, out var engine))
        {
            if (engines.Count >= CachedEnginesPerThreadMax)
            {
                engines.Clear();
            }
            engine = NewKeyed(key, forEncryption, aes);
            engines[id] = engine;
        }
        return engine;
    }

    private static IBlockCipher NewKeyed(ReadOnlySpan<byte> key, bool forEncryption, bool aes)
    {
        var engine = Engine(key, aes);
        engine.Init(forEncryption, new KeyParameter(key.ToArray()));
        return engine;
    }

    public static byte[] EncryptBlocks(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => Process(key, data, forEncryption: true);

    public static byte[] DecryptBlocks(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => Process(key, data, forEncryption: false);

    /// <summary>DES for 8-byte keys, two- or three-key 3DES for 16 or 24 bytes, AES for 32 bytes or an AES-tagged 16.</summary>
    private static IBlockCipher Engine(ReadOnlySpan<byte> key, bool aes) =>
        aes ? new AesEngine() : key.Length == 8 ? new DesEngine() : new DesEdeEngine();

    public static byte[] Process(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, bool forEncryption, bool aes = false)
    {
        var engine = Keyed(key, forEncryption, aes);
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
