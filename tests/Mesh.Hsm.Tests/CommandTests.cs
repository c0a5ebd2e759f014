using Mesh.Contracts.Hsm;
using Mesh.Hsm.Access;
using Mesh.Hsm.Commands;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;
using PinFormat = Mesh.Hsm.Crypto.PinBlockFormat;

namespace Mesh.Hsm.Tests;

public class CommandTests
{
    private const string Pan = "6222021234567890128";
    private readonly KeyManagement _keys = new(new InMemoryKeyStore());
    private readonly PinAndMac _pins;

    public CommandTests() => _pins = new PinAndMac(_keys);

    private static readonly PinFormat[] DesFormats = [PinFormat.Iso0, PinFormat.Iso1, PinFormat.Iso3];

    /// <summary>A 3DES ZPK whose policy names format 1 too (by default a ZPK takes only the card-bound formats).</summary>
    private static readonly KeyPolicy AllTripleDesFormats = KeyPolicy.None.WithPinBlockFormats(DesFormats);

    public static TheoryData<PinFormat, PinFormat> DesFormatPairs()
    {
        var data = new TheoryData<PinFormat, PinFormat>();
        foreach (var a in DesFormats)
        {
            // A card-bound block never becomes format 1, so a round trip through format 1 is 1 → 1 only.
            foreach (var b in DesFormats.Where(b => (a == PinFormat.Iso1) == (b == PinFormat.Iso1)))
            {
                data.Add(a, b);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(DesFormatPairs))]
    public async Task TranslatePin_AtoB_ThenBtoA_KeepsThePin_AndFormat0KeepsTheBlock(PinFormat a, PinFormat b)
    {
        var zpkA = await _keys.GenerateAsync("zpk-a", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default, AllTripleDesFormats);
        await _keys.GenerateAsync("zpk-b", KeyType.Zpk, KeyAlgorithm.Tdes3Key, default, AllTripleDesFormats);
        foreach (var pin in new[] { "1234", "000000", "987654321098" })
        {
            var original = PinAndMac.WritePin(zpkA, pin, a, Pan);

            var underB = await _pins.TranslatePinAsync("zpk-a", "zpk-b", original, a, b, Pan, default);
            var back = await _pins.TranslatePinAsync("zpk-b", "zpk-a", underB, b, a, Pan, default);

            Assert.Equal(pin, PinAndMac.ReadPin(zpkA, back, a, Pan));
            if (a == PinFormat.Iso0)
            {
                Assert.Equal(Convert.ToHexString(original), Convert.ToHexString(back));
            }
        }
    }

    [Fact]
    public async Task TranslatePin_BetweenAesFormat4_AndAnotherAesZpk_KeepsThePin()
    {
        var a = await _keys.GenerateAsync("zpk-aes-a", KeyType.Zpk, KeyAlgorithm.Aes128, default);
        var b = await _keys.GenerateAsync("zpk-aes-b", KeyType.Zpk, KeyAlgorithm.Aes256, default);
        var block = PinAndMac.WritePin(a, "4321", PinFormat.Iso4, Pan);

        var translated = await _pins.TranslatePinAsync("zpk-aes-a", "zpk-aes-b", block, PinFormat.Iso4, PinFormat.Iso4, Pan, default);

        Assert.Equal("4321", PinAndMac.ReadPin(b, translated, PinFormat.Iso4, Pan));
    }

    [Theory]
    [InlineData(PinFormat.Iso0, PinFormat.Iso1)]
    [InlineData(PinFormat.Iso3, PinFormat.Iso1)]
    [InlineData(PinFormat.Iso4, PinFormat.Iso1)]
    public async Task TranslatePin_FromACardBoundFormat_IntoFormat1_IsError23(PinFormat bound, PinFormat free)
    {
        var source = bound == PinFormat.Iso4
            ? await _keys.GenerateAsync("zpk-bound-aes", KeyType.Zpk, KeyAlgorithm.Aes128, default)
            : await _keys.GenerateAsync("zpk-bound", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk-free", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default, AllTripleDesFormats);
        var block = PinAndMac.WritePin(source, "1234", bound, Pan);

        var error = await Assert.ThrowsAsync<HsmException>(() => _pins.TranslatePinAsync(source.KeyId, "zpk-free", block, bound, free, Pan, default));

        Assert.Equal(HsmErrorCode.InvalidPinBlockFormat, error.Code);
    }

    [Fact]
    public async Task AZpksPolicy_NamesItsPinBlockFormats_BoundIntoItsKeyBlock_AndNoOtherIsTakenInOrOut()
    {
        var store = new InMemoryKeyStore();
        var keys = new KeyManagement(store);
        var pins = new PinAndMac(keys);
        var bankZpk = await keys.GenerateAsync("zpk-format-0", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default, KeyPolicy.None.WithPinBlockFormats([PinFormat.Iso0]));
        var acquirerZpk = await keys.GenerateAsync("zpk-default", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var freeZpk = await keys.GenerateAsync("zpk-format-1", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default, KeyPolicy.None.WithPinBlockFormats([PinFormat.Iso1]));
        var format3 = PinAndMac.WritePin(acquirerZpk, "2468", PinFormat.Iso3, Pan);

        // Into the bank's zone: format 0 only. Out of the acquirer's (no formats named): 0 and 3, never 1.
        var into0 = await pins.TranslatePinAsync("zpk-default", "zpk-format-0", format3, PinFormat.Iso3, PinFormat.Iso0, Pan, default);
        var into3 = await Assert.ThrowsAsync<HsmException>(() => pins.TranslatePinAsync("zpk-default", "zpk-format-0", format3, PinFormat.Iso3, PinFormat.Iso3, Pan, default));
        var outOf1 = await Assert.ThrowsAsync<HsmException>(() => pins.TranslatePinAsync("zpk-default", "zpk-format-0",
            PinAndMac.WritePin(freeZpk, "2468", PinFormat.Iso1, Pan), PinFormat.Iso1, PinFormat.Iso0, Pan, default));
        var aDefaultKeyIn1 = Assert.Throws<HsmException>(() => PinAndMac.WritePin(acquirerZpk, "2468", PinFormat.Iso1, Pan));
        var onAMacKey = await Assert.ThrowsAsync<HsmException>(() => keys.GenerateAsync("zak-formats", KeyType.Zak, KeyAlgorithm.Tdes2Key, default,
            KeyPolicy.None.WithPinBlockFormats([PinFormat.Iso0])));
        var format4OnA3DesKey = await Assert.ThrowsAsync<HsmException>(() => keys.GenerateAsync("zpk-4", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default,
            KeyPolicy.None.WithPinBlockFormats([PinFormat.Iso4])));

        Assert.Equal("2468", PinAndMac.ReadPin(bankZpk, into0, PinFormat.Iso0, Pan));
        Assert.All([into3, outOf1, aDefaultKeyIn1], e => Assert.Equal(HsmErrorCode.InvalidPinBlockFormat, e.Code));
        Assert.Contains("allows PIN block formats 0, not 3", into3.Message);
        Assert.Equal(HsmErrorCode.InvalidInput, onAMacKey.Code);
        Assert.Equal(HsmErrorCode.InvalidPinBlockFormat, format4OnA3DesKey.Code);
        Assert.Equal([Contracts.Hsm.PinBlockFormat.Iso0], (await keys.GetAsync("zpk-format-0", default)).ToInfo().PinBlockFormats);
        Assert.Equal([Contracts.Hsm.PinBlockFormat.Iso0, Contracts.Hsm.PinBlockFormat.Iso3], acquirerZpk.ToInfo().PinBlockFormats);
        Assert.Equal("#pin=0", KeyPolicy.Decode(bankZpk.Policy.Encode()).Encode());
    }

    [Theory]
    [InlineData(PinFormat.Iso0)]
    [InlineData(PinFormat.Iso3)]
    public async Task TranslatePin_FromFormat1_IntoACardBoundFormat_KeepsThePin(PinFormat bound)
    {
        var source = await _keys.GenerateAsync("zpk-free-1", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default, AllTripleDesFormats);
        var destination = await _keys.GenerateAsync("zpk-bound-1", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default, AllTripleDesFormats);

        var translated = await _pins.TranslatePinAsync("zpk-free-1", "zpk-bound-1", PinAndMac.WritePin(source, "13579", PinFormat.Iso1, Pan), PinFormat.Iso1, bound, Pan, default);

        Assert.Equal("13579", PinAndMac.ReadPin(destination, translated, bound, Pan));
    }

    [Theory]
    [InlineData(PinFormat.Iso0)]
    [InlineData(PinFormat.Iso3)]
    public async Task TranslatePin_BetweenA3DesFormat_AndAesFormat4_BothWays_KeepsThePin(PinFormat desFormat)
    {
        var des = await _keys.GenerateAsync("zpk-des", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk-aes", KeyType.Zpk, KeyAlgorithm.Aes128, default);
        var original = PinAndMac.WritePin(des, "80808080", desFormat, Pan);

        var underAes = await _pins.TranslatePinAsync("zpk-des", "zpk-aes", original, desFormat, PinFormat.Iso4, Pan, default);
        var back = await _pins.TranslatePinAsync("zpk-aes", "zpk-des", underAes, PinFormat.Iso4, desFormat, Pan, default);

        Assert.Equal(16, underAes.Length);
        Assert.Equal("80808080", PinAndMac.ReadPin(des, back, desFormat, Pan));
    }

    [Fact]
    public async Task TranslatePin_Format4UnderA3DesKey_IsError23()
    {
        await _keys.GenerateAsync("zpk-des", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk-des-2", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var error = await Assert.ThrowsAsync<HsmException>(() =>
            _pins.TranslatePinAsync("zpk-des", "zpk-des-2", new byte[8], PinFormat.Iso0, PinFormat.Iso4, Pan, default));
        Assert.Equal(HsmErrorCode.InvalidPinBlockFormat, error.Code);
    }

    [Fact]
    public async Task TranslatePin_UnderTheWrongKey_IsAnErrorCode_NotACrash()
    {
        var right = await _keys.GenerateAsync("zpk-right", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk-wrong", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk-out", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var failures = 0;
        for (var i = 0; i < 200; i++)
        {
            var block = PinAndMac.WritePin(right, "1234", PinFormat.Iso0, Pan);
            try
            {
                var translated = await _pins.TranslatePinAsync("zpk-wrong", "zpk-out", block, PinFormat.Iso0, PinFormat.Iso0, Pan, default);
                Assert.NotEqual(Convert.ToHexString(block), Convert.ToHexString(translated));
            }
            catch (HsmException ex)
            {
                Assert.Equal(HsmErrorCode.PinBlockInvalid, ex.Code);
                failures++;
            }
        }
        Assert.True(failures > 190, $"only {failures} of 200 wrong-key blocks were refused");
    }

    [Fact]
    public async Task TranslatePin_WithAMacKey_IsError04()
    {
        await _keys.GenerateAsync("zak", KeyType.Zak, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var error = await Assert.ThrowsAsync<HsmException>(() =>
            _pins.TranslatePinAsync("zak", "zpk", new byte[8], PinFormat.Iso0, PinFormat.Iso0, Pan, default));
        Assert.Equal(HsmErrorCode.InvalidKeyType, error.Code);
    }

    [Fact]
    public async Task FormKeyFromComponents_XorsThem_AndGivesTheKnownCheckValue()
    {
        // Two components whose XOR is 0123456789ABCDEFFEDCBA9876543210 (KCV 08D7B4).
        var c1 = Convert.FromHexString("10101010101010101010101010101010");
        var c2 = Xor(Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210"), c1);

        var key = await _keys.FormFromComponentsAsync("zmk-icbc", KeyType.Zmk, KeyAlgorithm.Tdes2Key, [c1, FixParity(c2)], default);

        Assert.Equal("08D7B4", key.CheckValue);
    }

    [Fact]
    public async Task ComponentWithEvenParity_IsError10()
    {
        var error = await Assert.ThrowsAsync<HsmException>(() =>
            _keys.FormFromComponentsAsync("zmk", KeyType.Zmk, KeyAlgorithm.Tdes2Key, [new byte[16], new byte[16]], default));
        Assert.Equal(HsmErrorCode.KeyParity, error.Code);
    }

    [Fact]
    public async Task ExportUnderZmk_ThenImportElsewhere_GivesTheSameKey()
    {
        await _keys.GenerateAsync("zmk", KeyType.Zmk, KeyAlgorithm.Tdes2Key, default);
        var zpk = await _keys.GenerateAsync("zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);

        var (cryptogram, kcv) = await _keys.ExportAsync("zpk", "zmk", default);
        var imported = await _keys.ImportAsync("zpk-copy", KeyType.Zpk, KeyAlgorithm.Tdes2Key, "zmk", cryptogram, kcv, default);

        Assert.Equal(zpk.CheckValue, imported.CheckValue);
        Assert.NotEqual(Convert.ToHexString(zpk.Value), Convert.ToHexString(cryptogram));
    }

    [Fact]
    public async Task Import_WithTheWrongCheckValue_IsError01_AndStoresNothing()
    {
        await _keys.GenerateAsync("zmk", KeyType.Zmk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var (cryptogram, _) = await _keys.ExportAsync("zpk", "zmk", default);

        var error = await Assert.ThrowsAsync<HsmException>(() =>
            _keys.ImportAsync("zpk-copy", KeyType.Zpk, KeyAlgorithm.Tdes2Key, "zmk", cryptogram, "000000", default));

        Assert.Equal(HsmErrorCode.VerificationFailure, error.Code);
        var missing = await Assert.ThrowsAsync<HsmException>(() => _keys.GetAsync("zpk-copy", default));
        Assert.Equal(HsmErrorCode.KeyNotFound, missing.Code);
    }

    [Fact]
    public async Task Import_IntoAnIdHoldingAnotherKey_IsErrorK2_AndTheSameKeyAgainIsTheSameKey()
    {
        await _keys.GenerateAsync("zmk", KeyType.Zmk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var other = await _keys.GenerateAsync("zpk-other", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var (cryptogram, kcv) = await _keys.ExportAsync("zpk", "zmk", default);
        var (otherCryptogram, otherKcv) = await _keys.ExportAsync("zpk-other", "zmk", default);

        var first = await _keys.ImportAsync("zpk-copy", KeyType.Zpk, KeyAlgorithm.Tdes2Key, "zmk", cryptogram, kcv, default);
        var again = await _keys.ImportAsync("zpk-copy", KeyType.Zpk, KeyAlgorithm.Tdes2Key, "zmk", cryptogram, kcv, default);
        var taken = await Assert.ThrowsAsync<HsmException>(() =>
            _keys.ImportAsync("zpk-copy", KeyType.Zpk, KeyAlgorithm.Tdes2Key, "zmk", otherCryptogram, otherKcv, default));

        Assert.Equal(first.CheckValue, again.CheckValue);
        Assert.Equal(HsmErrorCode.KeyExists, taken.Code);
        Assert.Equal(kcv, (await _keys.GetAsync("zpk-copy", default)).CheckValue);
        Assert.NotEqual(other.CheckValue, kcv);
    }

    [Theory]
    [InlineData("switch", "ImportKey", KeyType.Zpk, true)]
    [InlineData("switch", "ImportKey", KeyType.Zak, true)]
    [InlineData("switch", "ImportKey", KeyType.Zmk, false)]
    [InlineData("switch", "ImportKey", KeyType.Pvk, false)]
    [InlineData("switch", "ExportKey", KeyType.Zpk, false)]
    [InlineData("issuer", "ExportKey", KeyType.Zak, true)]
    [InlineData("issuer", "ExportKey", KeyType.Dek, false)]
    [InlineData("issuer", "ImportKey", KeyType.Zpk, false)]
    [InlineData("gateway", "ImportKey", KeyType.Zpk, false)]
    [InlineData("gateway", "ExportKey", KeyType.Zpk, false)]
    [InlineData("operator", "ImportKey", KeyType.Pvk, true)]
    [InlineData("operator", "ExportKey", KeyType.Dek, true)]
    public void ZoneKeys_TravelBetweenSwitchAndBank_AndNoOtherKeyDoes(string role, string command, KeyType type, bool allowed) =>
        Assert.Equal(allowed, CallerPolicy.May(role, command) && CallerPolicy.MayExchange(role, type) && (command != "ImportKey" || CallerPolicy.MayImport(role, nextVersion: false)));

    [Fact]
    public void AesZmkWrap_Rfc3394KnownAnswer()
    {
        // RFC 3394 section 4.1: 128-bit KEK, 128-bit key data.
        var zmk = new HeldKey("zmk", KeyType.Zmk, KeyAlgorithm.Aes128, Convert.FromHexString("000102030405060708090A0B0C0D0E0F"));
        var wrapped = KeyManagement.Wrap(zmk, Convert.FromHexString("00112233445566778899AABBCCDDEEFF"));
        Assert.Equal("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5", Convert.ToHexString(wrapped));
        Assert.Equal("00112233445566778899AABBCCDDEEFF", Convert.ToHexString(KeyManagement.Unwrap(zmk, wrapped, 16)));
    }

    [Fact]
    public void TripleDesZmkWrap_IsEcbEncryption_CrossCheckedWithDotNet()
    {
        var zmkValue = Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210");
        var key = Convert.FromHexString("1C1C1C1C1C1C1C1C4C4C4C4C4C4C4C4C");
        using var des = System.Security.Cryptography.TripleDES.Create();
        des.Key = [.. zmkValue, .. zmkValue[..8]]; // OpenSSL takes 3DES as K1K2K3
        var expected = des.EncryptEcb(key, System.Security.Cryptography.PaddingMode.None);

        var wrapped = KeyManagement.Wrap(new HeldKey("zmk", KeyType.Zmk, KeyAlgorithm.Tdes2Key, zmkValue), key);

        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(wrapped));
    }

    [Theory]
    [InlineData(Mesh.Hsm.Crypto.MacAlgorithm.Iso9797Alg3, KeyAlgorithm.Tdes2Key)]
    [InlineData(Mesh.Hsm.Crypto.MacAlgorithm.Iso9797Alg1, KeyAlgorithm.Tdes3Key)]
    [InlineData(Mesh.Hsm.Crypto.MacAlgorithm.AesCmac, KeyAlgorithm.Aes256)]
    public async Task Mac_GeneratedThenVerified_AndOneFlippedBitIsError01(Mesh.Hsm.Crypto.MacAlgorithm algorithm, KeyAlgorithm keyAlgorithm)
    {
        await _keys.GenerateAsync("zak", KeyType.Zak, keyAlgorithm, default);
        var data = "0200 purchase"u8.ToArray();

        var mac = await _pins.GenerateMacAsync("zak", data, algorithm, Mesh.Hsm.Crypto.MacPadding.Method2, default);
        await _pins.VerifyMacAsync("zak", data, algorithm, Mesh.Hsm.Crypto.MacPadding.Method2, mac, default);
        mac[0] ^= 1;
        var error = await Assert.ThrowsAsync<HsmException>(() =>
            _pins.VerifyMacAsync("zak", data, algorithm, Mesh.Hsm.Crypto.MacPadding.Method2, mac, default));

        Assert.Equal(HsmErrorCode.VerificationFailure, error.Code);
    }

    [Fact]
    public async Task GenerateKey_SameIdAgain_GivesTheSameKey_OtherTypeIsRefused()
    {
        var first = await _keys.GenerateAsync("zpk-1", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var again = await _keys.GenerateAsync("zpk-1", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var error = await Assert.ThrowsAsync<HsmException>(() => _keys.GenerateAsync("zpk-1", KeyType.Zak, KeyAlgorithm.Tdes2Key, default));

        Assert.Equal(first.CheckValue, again.CheckValue);
        Assert.Equal(HsmErrorCode.KeyExists, error.Code);
    }

    [Fact]
    public async Task GeneratedDesKeys_HaveOddParity()
    {
        var key = await _keys.GenerateAsync("tpk", KeyType.Tpk, KeyAlgorithm.Tdes3Key, default);
        Assert.True(BlockCiphers.HasOddParity(key.Value));
    }

    private static byte[] Xor(byte[] a, byte[] b) => [.. a.Zip(b, (x, y) => (byte)(x ^ y))];

    private static byte[] FixParity(byte[] key)
    {
        var copy = (byte[])key.Clone();
        BlockCiphers.SetOddParity(copy);
        return copy;
    }
}
