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
    public void Unwrap_ThePublishedBlock_GivesItsKey_AndWhatItsEncryptOnlyModeForbids()
    {
        var unwrapped = Tr31KeyBlock.Unwrap(Zmk, Block, KeyType.Zpk, KeyAlgorithm.Aes128);

        Assert.Equal(Key, Convert.ToHexString(unwrapped.Key));
        // Mode E (encrypt only), exportability E: PIN blocks are written under it, never read; it may travel on.
        Assert.Equal([KeyUse.PinDecrypt], unwrapped.ForbiddenUses);
    }

    [Theory]
    [InlineData("P0", 'B', 'E', new KeyUse[0])]
    [InlineData("P0", 'E', 'S', new[] { KeyUse.PinDecrypt })]
    [InlineData("P0", 'D', 'E', new[] { KeyUse.PinEncrypt })]
    [InlineData("M6", 'C', 'N', new[] { KeyUse.Export })]
    [InlineData("M6", 'G', 'E', new[] { KeyUse.MacVerify })]
    [InlineData("M6", 'V', 'N', new[] { KeyUse.MacGenerate, KeyUse.Export })]
    public void ModeOfUseAndExportability_ForbidTheUsesTheyLeaveOut(string usage, char mode, char exportability, KeyUse[] forbidden)
    {
        var block = Tr31KeyBlock.Wrap(Convert.FromHexString(Kbpk), usage, 'A', mode, exportability, Convert.FromHexString(Key), null);

        var unwrapped = Tr31KeyBlock.Unwrap(Zmk, block, usage == "P0" ? KeyType.Zpk : KeyType.Zak, KeyAlgorithm.Aes128);

        Assert.Equal(forbidden.Order(), unwrapped.ForbiddenUses.Order());
    }

    [Theory]
    [InlineData('X')] // no exportability X9.143 defines
    [InlineData('0')]
    public void AnUnknownExportability_IsRefused(char exportability)
    {
        var block = Tr31KeyBlock.Wrap(Convert.FromHexString(Kbpk), "P0", 'A', 'B', exportability, Convert.FromHexString(Key), null);

        Assert.Equal(HsmErrorCode.InvalidInput, Assert.Throws<HsmException>(() => Tr31KeyBlock.Unwrap(Zmk, block, KeyType.Zpk, KeyAlgorithm.Aes128)).Code);
    }

    [Fact]
    public void AZoneKey_RoundTrips_AndIsRefusedAsAnotherTypeOrAlgorithm()
    {
        var zak = new HeldKey("zak", KeyType.Zak, KeyAlgorithm.Tdes2Key, Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210"));

        var block = Tr31KeyBlock.Wrap(Zmk, zak);

        Assert.StartsWith("D0112M3TC00N0000", block, StringComparison.Ordinal);
        Assert.Equal("0123456789ABCDEFFEDCBA9876543210", Convert.ToHexString(Tr31KeyBlock.Unwrap(Zmk, block, KeyType.Zak, KeyAlgorithm.Tdes2Key).Key));
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
