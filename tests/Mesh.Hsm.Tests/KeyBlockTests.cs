using System.Security.Cryptography;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Tests;

public class KeyBlockTests
{
    private static readonly byte[] Lmk = RandomNumberGenerator.GetBytes(32);
    private static readonly HeldKey Zpk = new("zpk-acq", KeyType.Zpk, KeyAlgorithm.Tdes2Key, Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210"));

    [Fact]
    public void SealThenOpen_GivesTheSameKey()
    {
        var opened = KeyBlock.Open(Lmk, KeyBlock.Seal(Lmk, Zpk), "zpk-acq");

        Assert.Equal(KeyType.Zpk, opened.Type);
        Assert.Equal(KeyAlgorithm.Tdes2Key, opened.Algorithm);
        Assert.Equal("08D7B4", opened.CheckValue);
    }

    [Fact]
    public void SealedBlock_DoesNotContainTheKey()
    {
        var block = KeyBlock.Seal(Lmk, Zpk);
        Assert.DoesNotContain("0123456789ABCDEF", Convert.ToHexString(block), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryTamperedByte_IsRefused()
    {
        var block = KeyBlock.Seal(Lmk, Zpk);
        for (var i = 0; i < block.Length; i++)
        {
            var tampered = (byte[])block.Clone();
            tampered[i] ^= 0x01;
            Assert.Throws<HsmException>(() => KeyBlock.Open(Lmk, tampered, "zpk-acq"));
        }
    }

    [Fact]
    public void BlockUnderAnotherLmk_OrForAnotherKeyId_IsRefused()
    {
        var block = KeyBlock.Seal(Lmk, Zpk);

        var otherLmk = Assert.Throws<HsmException>(() => KeyBlock.Open(RandomNumberGenerator.GetBytes(32), block, "zpk-acq"));
        var otherId = Assert.Throws<HsmException>(() => KeyBlock.Open(Lmk, block, "zpk-iss"));

        Assert.Equal(HsmErrorCode.VerificationFailure, otherLmk.Code);
        Assert.Equal(HsmErrorCode.InvalidInput, otherId.Code);
    }

    [Fact]
    public void HeldKey_ToString_ShowsNoKeyValue() =>
        Assert.DoesNotContain("0123456789", Zpk.ToString(), StringComparison.Ordinal);
}
