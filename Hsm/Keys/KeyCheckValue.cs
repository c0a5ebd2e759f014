using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Mesh.Hsm.Keys;

/// <summary>Key check values as payShield shows them (BU): proof of a key without revealing it.</summary>
public static class KeyCheckValue
{
    /// <summary>DES/3DES: the first 3 bytes of E(K, 0…0), 6 hex digits.</summary>
    public static string TripleDes(ReadOnlySpan<byte> key)
    {
        if (key.Length is not (8 or 16 or 24))
        {
            throw new ArgumentException("A DES key is 8, 16 or 24 bytes", nameof(key));
        }
        var engine = key.Length == 8 ? (Org.BouncyCastle.Crypto.IBlockCipher)new DesEngine() : new DesEdeEngine();
        engine.Init(true, new KeyParameter(key.ToArray()));
        var output = new byte[8];
        engine.ProcessBlock(new byte[8], 0, output, 0);
        return Convert.ToHexString(output, 0, 3);
    }

    /// <summary>AES: CMAC of a zero block, first 5 bytes, 10 hex digits.</summary>
    public static string Aes(ReadOnlySpan<byte> key) => Convert.ToHexString(AesCmac(key, new byte[16]), 0, 5);

    /// <summary>AES-CMAC (NIST SP 800-38B, RFC 4493), full 16-byte tag.</summary>
    public static byte[] AesCmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message)
    {
        if (key.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException("An AES key is 16, 24 or 32 bytes", nameof(key));
        }
        var mac = new CMac(new AesEngine());
        mac.Init(new KeyParameter(key.ToArray()));
        mac.BlockUpdate(message);
        var tag = new byte[mac.GetMacSize()];
        mac.DoFinal(tag, 0);
        return tag;
    }
}
