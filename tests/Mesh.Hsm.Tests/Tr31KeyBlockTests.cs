using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Tests;

public class Tr31KeyBlockTests
{
    // ANSI X9.143 / TR-31:2018 example of a version D block: an AES-128 PIN key under an AES-256 KBPK.
    private const string Kbpk = "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6";
    private const string Key = "3F419E1CB7079442AA37474C2EFBF8B8";
    private const string Padding = "1C2965473CE206BB855B01533782";
    private const string Block = "D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC34";

    private static readonly HeldKey Zmk = new("zmk", KeyType.Zmk, KeyAlgorithm.Aes256, Convert.FromHexString(Kbpk));

    [Fact]
    public void Wrap_GivesThePublishedVersionDBlock()
    {
        var block = Tr31KeyBlock.Wrap(Convert.FromHexString(Kbpk), "P0", 'A', 'E', 'E', Convert.FromHexString(Key), Convert.FromHexString(Padding));

        Assert.Equal(Block, block);
    }

    [Fact]
    public void Unwrap_ThePublishedBlock_GivesItsKey()
    {
        Assert.Equal(Key, Convert.ToHexString(Tr31KeyBlock.Unwrap(Zmk, Block, KeyType.Zpk, KeyAlgorithm.Aes128)));
    }

    [Fact]
    public void AZoneKey_RoundTrips_AndIsRefusedAsAnotherTypeOrAlgorithm()
    {
        var zak = new HeldKey("zak", KeyType.Zak, KeyAlgorithm.Tdes2Key, Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210"));

        var block = Tr31KeyBlock.Wrap(Zmk, zak);

        Assert.StartsWith("D0112M3TC00N0000", block, StringComparison.Ordinal);
        Assert.Equal("0123456789ABCDEFFEDCBA9876543210", Convert.ToHexString(Tr31KeyBlock.Unwrap(Zmk, block, KeyType.Zak, KeyAlgorithm.Tdes2Key)));
        // A MAC key presented as a PIN key (the swap TR-31 exists to stop).
        Assert.Equal(HsmErrorCode.InvalidKeyType, Assert.Throws<HsmException>(() => Tr31KeyBlock.Unwrap(Zmk, block, KeyType.Zpk, KeyAlgorithm.Tdes2Key)).Code);
        Assert.Equal(HsmErrorCode.InvalidKeyType, Assert.Throws<HsmException>(() => Tr31KeyBlock.Unwrap(Zmk, block, KeyType.Zak, KeyAlgorithm.Aes128)).Code);
    }

    [Fact]
    public void EveryChangedCharacter_IsRefused()
    {
        for (var i = 0; i < Block.Length; i++)
        {
            var changed = Block[..i] + (Block[i] == '0' ? '1' : '0') + Block[(i + 1)..];
            Assert.Throws<HsmException>(() => Tr31KeyBlock.Unwrap(Zmk, changed, KeyType.Zpk, KeyAlgorithm.Aes128));
        }
        // The header rewritten to another usage, keeping its length: the authenticator no longer verifies.
        var asMacKey = "D0112M6AC00E0000" + Block[16..];
        Assert.Equal(HsmErrorCode.VerificationFailure,
            Assert.Throws<HsmException>(() => Tr31KeyBlock.Unwrap(Zmk, asMacKey, KeyType.Zak, KeyAlgorithm.Aes128)).Code);
    }

    [Fact]
    public void A3DesZmk_IsNotAKeyBlockProtectionKey()
    {
        var tdes = new HeldKey("zmk-3des", KeyType.Zmk, KeyAlgorithm.Tdes2Key, Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210"));
        Assert.Equal(HsmErrorCode.InvalidKeyType, Assert.Throws<HsmException>(() => Tr31KeyBlock.Unwrap(tdes, Block, KeyType.Zpk, KeyAlgorithm.Aes128)).Code);
    }
}
