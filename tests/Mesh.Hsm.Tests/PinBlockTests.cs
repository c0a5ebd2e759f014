using System.Security.Cryptography;
using Mesh.Hsm.Crypto;

namespace Mesh.Hsm.Tests;

public class PinBlockTests
{
    private const string Pan = "5544332211009966";

    [Fact]
    public void Format0_PublishedKnownAnswer()
    {
        // docs/hsm.md, "Known answers": PIN 1234, PAN 5544332211009966 → 041277CDDEEFF669.
        Assert.Equal("041277CDDEEFF669", Convert.ToHexString(PinBlocks.BuildClear(PinBlockFormat.Iso0, "1234", Pan)));
    }

    [Theory]
    [InlineData(PinBlockFormat.Iso0, "1234")]
    [InlineData(PinBlockFormat.Iso1, "987654")]
    [InlineData(PinBlockFormat.Iso3, "123456789012")]
    public void ClearBlock_ReadsBackThePin(PinBlockFormat format, string pin) =>
        Assert.Equal(pin, PinBlocks.ReadClear(format, PinBlocks.BuildClear(format, pin, Pan), Pan));

    [Fact]
    public void Format3_FillIsRandomAtoF()
    {
        var blocks = Enumerable.Range(0, 20).Select(_ => Convert.ToHexString(PinBlocks.BuildClear(PinBlockFormat.Iso3, "1234", Pan))).ToHashSet();
        Assert.True(blocks.Count > 1, "format 3 fill must be random");
    }

    [Fact]
    public void Format4_CrossCheckedWithDotNetAes()
    {
        var key = RandomNumberGenerator.GetBytes(16);
        var block = PinBlocks.EncipherIso4(key, "1234", "1234567890123456789");

        using var aes = Aes.Create();
        aes.Key = key;
        var intermediate = aes.DecryptEcb(block, PaddingMode.None);
        var panField = Convert.FromHexString("71234567890123456789000000000000");
        for (var i = 0; i < 16; i++)
        {
            intermediate[i] ^= panField[i];
        }
        var pinField = aes.DecryptEcb(intermediate, PaddingMode.None);

        Assert.Equal("441234AAAAAAAAAA", Convert.ToHexString(pinField[..8]));
        Assert.Equal("1234", PinBlocks.DecipherIso4(key, block, "1234567890123456789"));
    }

    [Theory]
    [InlineData("1122334455667788990", "71122334455667788990000000000000")]
    [InlineData("5544332211009966", "45544332211009966000000000000000")]
    public void Format4_PanField_IsLengthLess12ThenThePanThenZeros(string pan, string expected) =>
        Assert.Equal(expected, Convert.ToHexString(PinBlocks.PanField16(pan)));

    [Theory]
    [InlineData("123")]
    [InlineData("1234567890123")]
    [InlineData("12a4")]
    public void ImpossiblePins_AreError24(string pin)
    {
        var error = Assert.Throws<HsmException>(() => PinBlocks.BuildClear(PinBlockFormat.Iso0, pin, Pan));
        Assert.Equal(HsmErrorCode.PinLength, error.Code);
    }

    [Fact]
    public void BlockOfAnotherFormat_IsError20()
    {
        var format1 = PinBlocks.BuildClear(PinBlockFormat.Iso1, "1234", null);
        var error = Assert.Throws<HsmException>(() => PinBlocks.ReadClear(PinBlockFormat.Iso0, format1, Pan));
        Assert.Equal(HsmErrorCode.PinBlockInvalid, error.Code);
    }

    [Fact]
    public void FormatsBoundToThePan_RefuseAMissingPan()
    {
        var error = Assert.Throws<HsmException>(() => PinBlocks.BuildClear(PinBlockFormat.Iso0, "1234", null));
        Assert.Equal(HsmErrorCode.InvalidInput, error.Code);
    }
}
