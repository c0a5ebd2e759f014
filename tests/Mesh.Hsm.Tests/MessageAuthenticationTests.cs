using System.Security.Cryptography;
using System.Text;
using Mesh.Hsm.Crypto;

namespace Mesh.Hsm.Tests;

public class MessageAuthenticationTests
{
    private static readonly byte[] K1K2 = Convert.FromHexString("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
    private static readonly byte[] HelloWorld = Encoding.ASCII.GetBytes("hello world");

    [Theory]
    // docs/hsm.md, "Known answers": ISO 9797-1 algorithm 3, K1 = AAAAAAAAAAAAAAAA, K2 = BBBBBBBBBBBBBBBB, "hello world".
    [InlineData(MacPadding.Method1, "78DA3D3DEB48FD4D")]
    [InlineData(MacPadding.Method2, "2BC2D9EDE0CF31F6")]
    public void RetailMac_PublishedKnownAnswers(MacPadding padding, string expected) =>
        Assert.Equal(expected, Convert.ToHexString(MessageAuthentication.Compute(MacAlgorithm.Iso9797Alg3, padding, K1K2, HelloWorld)));

    [Theory]
    [InlineData(MacPadding.Method1)]
    [InlineData(MacPadding.Method2)]
    public void Algorithm1_WithTripleDes_IsTheLastBlockOfDotNetCbcEncryption(MacPadding padding)
    {
        var key = Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210");
        var data = Encoding.ASCII.GetBytes("0200 message with several blocks of data");

        using var des = TripleDES.Create();
        des.Key = [.. key, .. key[..8]]; // OpenSSL takes two-key 3DES as K1K2K1
        var cbc = des.EncryptCbc(MessageAuthentication.Pad(data, padding, 8), new byte[8], PaddingMode.None);

        Assert.Equal(Convert.ToHexString(cbc[^8..]), Convert.ToHexString(MessageAuthentication.Compute(MacAlgorithm.Iso9797Alg1, padding, key, data)));
    }

    [Fact]
    public void Algorithm3_EqualsAlgorithm1UnderK1_ThenDecryptK2EncryptK1_CrossCheckedWithDotNetDes()
    {
        var data = Encoding.ASCII.GetBytes("any message at all, three blocks");
        var expected = DotNetRetailMac(K1K2, MessageAuthentication.Pad(data, MacPadding.Method2, 8));

        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(MessageAuthentication.Compute(MacAlgorithm.Iso9797Alg3, MacPadding.Method2, K1K2, data)));
    }

    /// <summary>
    /// Keyed engines are kept per thread: many keys (past the cache's limit, so it starts again),
    /// each used twice in both directions, on several threads at once, all give .NET's answer.
    /// </summary>
    [Fact]
    public void RetailMac_UnderManyKeysOnManyThreads_AlwaysEqualsDotNetDes()
    {
        var keyCount = (BlockCiphers.CachedEnginesPerThreadMax * 2) + 7;
        var keys = Enumerable.Range(0, keyCount).Select(i => SHA256.HashData(BitConverter.GetBytes(i))[..16]).ToArray();
        var data = Encoding.ASCII.GetBytes("0200 6222021234567890128 000000 000000012345");
        var expected = keys.Select(key => Convert.ToHexString(DotNetRetailMac(key, MessageAuthentication.Pad(data, MacPadding.Method1, 8)))).ToArray();

        var wrong = 0;
        Parallel.For(0, keyCount * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var k = (i * 7) % keyCount;
            if (Convert.ToHexString(MessageAuthentication.Compute(MacAlgorithm.Iso9797Alg3, MacPadding.Method1, keys[k], data)) != expected[k])
            {
                Interlocked.Increment(ref wrong);
            }
        });

        Assert.Equal(0, wrong);
    }

    private static byte[] DotNetRetailMac(byte[] key, byte[] padded)
    {
#pragma warning disable CA5351 // single DES is what ISO 9797-1 algorithm 3 is made of
        using var des = DES.Create();
        des.Key = key[..8];
        var cbc = des.EncryptCbc(padded, new byte[8], PaddingMode.None)[^8..];
        des.Key = key[8..];
        var step = des.DecryptEcb(cbc, PaddingMode.None);
        des.Key = key[..8];
        return des.EncryptEcb(step, PaddingMode.None);
#pragma warning restore CA5351
    }

    [Theory]
    [InlineData(0, MacPadding.Method1, 8)]
    [InlineData(8, MacPadding.Method1, 8)]
    [InlineData(9, MacPadding.Method1, 16)]
    [InlineData(0, MacPadding.Method2, 8)]
    [InlineData(8, MacPadding.Method2, 16)]
    [InlineData(7, MacPadding.Method2, 8)]
    public void Padding_Lengths(int dataBytes, MacPadding padding, int paddedBytes) =>
        Assert.Equal(paddedBytes, MessageAuthentication.Pad(new byte[dataBytes], padding, 8).Length);
}
