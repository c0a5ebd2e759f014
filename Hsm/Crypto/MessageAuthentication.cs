namespace Mesh.Hsm.Crypto;

public enum MacAlgorithm
{
    /// <summary>ISO 9797-1 algorithm 1: CBC-MAC under the whole key.</summary>
    Iso9797Alg1,
    /// <summary>ISO 9797-1 algorithm 3 (ANSI X9.19 retail MAC): single-DES CBC under K1, then D(K2), E(K1) on the last block.</summary>
    Iso9797Alg3,
    /// <summary>AES-CMAC (NIST SP 800-38B).</summary>
    AesCmac,
}

public enum MacPadding
{
    /// <summary>Zero bytes to a block boundary (none if already aligned, except for empty data).</summary>
    Method1,
    /// <summary>0x80 then zero bytes: always at least one byte added.</summary>
    Method2,
}

/// <summary>The MACs of payShield M6/M8, with 8-byte results for DES-family keys and 16 for AES-CMAC.</summary>
public static class MessageAuthentication
{
    public static byte[] Compute(MacAlgorithm algorithm, MacPadding padding, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => algorithm switch
    {
        MacAlgorithm.Iso9797Alg1 => CbcMac(key, Pad(data, padding, 8)),
        MacAlgorithm.Iso9797Alg3 => RetailMac(key, Pad(data, padding, 8)),
        MacAlgorithm.AesCmac => Keys.KeyCheckValue.AesCmac(key, data),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    public static byte[] Pad(ReadOnlySpan<byte> data, MacPadding padding, int blockSize)
    {
        var length = padding == MacPadding.Method2
            ? (data.Length / blockSize + 1) * blockSize
            : Math.Max(blockSize, (data.Length + blockSize - 1) / blockSize * blockSize);
        var padded = new byte[length];
        data.CopyTo(padded);
        if (padding == MacPadding.Method2)
        {
            padded[data.Length] = 0x80;
        }
        return padded;
    }

    private static byte[] CbcMac(ReadOnlySpan<byte> key, byte[] padded)
    {
        return Chain(BlockCiphers.Keyed(key, forEncryption: true), padded);
    }

    private static byte[] RetailMac(ReadOnlySpan<byte> key, byte[] padded)
    {
        if (key.Length != 16)
        {
            throw new ArgumentException("Algorithm 3 takes a double-length key (K1 ‖ K2)", nameof(key));
        }
        var des = BlockCiphers.Keyed(key[..8], forEncryption: true);
        var state = Chain(des, padded);
        var output = new byte[8];
        BlockCiphers.Keyed(key[8..], forEncryption: false).ProcessBlock(state, 0, output, 0);
        des.ProcessBlock(output, 0, state, 0);
        return state;
    }

    private static byte[] Chain(Org.BouncyCastle.Crypto.IBlockCipher engine, byte[] padded)
    {
        var state = new byte[8];
        var block = new byte[8];
        for (var at = 0; at < padded.Length; at += 8)
        {
            for (var i = 0; i < 8; i++)
            {
                block[i] = (byte)(state[i] ^ padded[at + i]);
            }
            engine.ProcessBlock(block, 0, state, 0);
        }
        return state;
    }
}
