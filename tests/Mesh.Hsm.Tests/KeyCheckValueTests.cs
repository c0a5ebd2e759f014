using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Tests;

public class KeyCheckValueTests
{
    [Fact]
    public void TripleDes_PublishedKnownAnswer()
    {
        // docs/hsm.md (KeyCheckValue): KCV of 0123456789ABCDEFFEDCBA9876543210 is 08D7B4.
        Assert.Equal("08D7B4", KeyCheckValue.TripleDes(Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210")));
    }

    [Theory]
    // RFC 4493 section 4, AES-128 key 2b7e1516 28aed2a6 abf71588 09cf4f3c.
    [InlineData("", "BB1D6929E95937287FA37D129B756746")]
    [InlineData("6BC1BEE22E409F96E93D7E117393172A", "070A16B46B4D4144F79BDD9DD04A287C")]
    [InlineData("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411", "DFA66747DE9AE63030CA32611497C827")]
    public void AesCmac_Rfc4493KnownAnswers(string messageHex, string expectedTag)
    {
        var key = Convert.FromHexString("2B7E151628AED2A6ABF7158809CF4F3C");
        Assert.Equal(expectedTag, Convert.ToHexString(KeyCheckValue.AesCmac(key, Convert.FromHexString(messageHex))));
    }

    [Fact]
    public void Aes_IsTheFirstFiveBytesOfTheCmacOfAZeroBlock()
    {
        var key = Convert.FromHexString("2B7E151628AED2A6ABF7158809CF4F3C");
        var cmac = KeyCheckValue.AesCmac(key, new byte[16]);
        Assert.Equal(Convert.ToHexString(cmac, 0, 5), KeyCheckValue.Aes(key));
        Assert.Equal(10, KeyCheckValue.Aes(key).Length);
    }

    [Fact]
    public void WrongKeyLengths_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => KeyCheckValue.TripleDes(new byte[15]));
        Assert.Throws<ArgumentException>(() => KeyCheckValue.Aes(new byte[20]));
    }
}
