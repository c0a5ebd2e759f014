using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Access;
using Mesh.Hsm.Commands;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;
using PinFormat = Mesh.Hsm.Crypto.PinBlockFormat;

namespace Mesh.Hsm.Tests;

/// <summary>
/// The Hsm's half of the security boundary, attacked in process: keys used by callers that do not
/// own them, PIN commands used as oracles, keys moved where they must not go. Each attack is refused
/// with its error code. The same attacks over gRPC, with audit rows, are in the end-to-end
/// <c>HsmAttackTests</c>.
/// </summary>
public class KeyOwnershipAttackTests
{
    private const string Pan = "6222020000000015";
    private static readonly byte[] Lmk = RandomNumberGenerator.GetBytes(32);
    private readonly InMemoryKeyStore _store = new();
    private readonly KeyManagement _keys;
    private readonly KeyAccess _access;

    public KeyOwnershipAttackTests()
    {
        _keys = new KeyManagement(_store);
        _access = new KeyAccess(_store);
    }

    private static KeyPolicy Owned(params (string Caller, KeyUse[] Uses)[] owners) =>
        KeyPolicy.Of(owners.Select(o => (o.Caller, (IEnumerable<KeyUse>)o.Uses)));

    [Fact]
    public void KeyBlock_CarriesItsPolicy_AuthenticatedWithTheKey()
    {
        var policy = Owned(("gateway", [KeyUse.PinEncrypt]), ("switch", [KeyUse.PinDecrypt]));
        var key = new HeldKey("gateway.zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210"), policy);
        var block = KeyBlock.Seal(Lmk, key);

        var opened = KeyBlock.Open(Lmk, block, "gateway.zpk");

        Assert.True(opened.Policy.Allows("switch", KeyUse.PinDecrypt));
        Assert.False(opened.Policy.Allows("switch", KeyUse.PinEncrypt));
        Assert.False(opened.Policy.Allows("issuer-icbc", KeyUse.PinDecrypt));
        // An attacker with the database rewrites the header to make the key an issuer's: the block no longer opens.
        var header = Encoding.ASCII.GetString(block, 2, BinaryPrimitives.ReadUInt16BigEndian(block));
        var forged = header.Replace("switch=2", "issuer=2", StringComparison.Ordinal);
        Assert.Equal(header.Length, forged.Length);
        var tampered = (byte[])block.Clone();
        Encoding.ASCII.GetBytes(forged).CopyTo(tampered, 2);
        var refused = Assert.Throws<HsmException>(() => KeyBlock.Open(Lmk, tampered, "gateway.zpk"));
        Assert.Equal(HsmErrorCode.VerificationFailure, refused.Code);
    }

    [Fact]
    public void KeyBlock_OfTheEarlierVersion_OpensWithNoOwners()
    {
        var key = new HeldKey("old.zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210"));
        var header = Encoding.ASCII.GetBytes("M1|old.zpk|Zpk|Tdes2Key");
        var block = new byte[2 + header.Length + 12 + 16 + 16];
        BinaryPrimitives.WriteUInt16BigEndian(block, (ushort)header.Length);
        header.CopyTo(block, 2);
        RandomNumberGenerator.Fill(block.AsSpan(2 + header.Length, 12));
        using (var gcm = new AesGcm(HKDF.DeriveKey(HashAlgorithmName.SHA256, Lmk, 32, [], Encoding.ASCII.GetBytes("mesh key block encryption v1")), 16))
        {
            gcm.Encrypt(block.AsSpan(2 + header.Length, 12), key.Value, block.AsSpan(2 + header.Length + 12, 16), block.AsSpan(block.Length - 16), header);
        }

        var opened = KeyBlock.Open(Lmk, block, "old.zpk");

        Assert.Equal("08D7B4", opened.CheckValue);
        Assert.Empty(opened.Policy.Owners);
    }

    public static TheoryData<string, string> ForeignUses() => new()
    {
        // Attack 2: a bank exports the acquirer's ZPK under its own ZMK.
        { "issuer-icbc", "export gateway.zpk under issuer-icbc.zmk" },
        // Attack 3: the gateway MACs under a bank's ZAK (forged 0420/0220 to the bank).
        { "gateway", "mac under issuer-icbc.zak" },
        // A bank verifies PINs with another bank's PVK.
        { "issuer-ccb", "verify pin with issuer-icbc.pvk" },
        // The switch reads card numbers with the gateway's DEK.
        { "switch", "decrypt with gateway.dek" },
        // Attack 5: any service but the gateway signs with one of the platform's keys (answers, files, certificates).
        { "switch", "sign with gateway.signing" },
        { "issuer-icbc", "sign with gateway.signing" },
        { "switch", "sign with gateway.files" },
        { "issuer-icbc", "sign with gateway.files" },
        { "switch", "sign with gateway.certificates" },
        { "issuer-icbc", "sign with gateway.certificates" },
        // The gateway translates a PIN out of a bank's zone.
        { "gateway", "translate from issuer-icbc.zpk" },
        // A bank reads a PIN block under the acquirer's ZPK.
        { "issuer-icbc", "verify gateway.zpk block" },
    };

    [Theory]
    [MemberData(nameof(ForeignUses))]
    public async Task AKeyUsedByACallerThatDoesNotOwnItForThatUse_IsRefusedWithK3(string caller, string attack)
    {
        await ProvisionAsync();
        object request = attack switch
        {
            "export gateway.zpk under issuer-icbc.zmk" => new ExportKeyRequest { KeyId = "gateway.zpk", ZmkId = "issuer-icbc.zmk" },
            "mac under issuer-icbc.zak" => new GenerateMacRequest { KeyId = "issuer-icbc.zak", Data = ByteString.CopyFromUtf8("0420") },
            "verify pin with issuer-icbc.pvk" => new VerifyPinRequest { ZpkId = "issuer-ccb.zpk", Verification = new PinVerificationData { PvkId = "issuer-icbc.pvk" } },
            "decrypt with gateway.dek" => new DecryptDataRequest { DekId = "gateway.dek" },
            "sign with gateway.signing" => new SignRequest { KeyId = "gateway.signing" },
            "sign with gateway.files" => new SignRequest { KeyId = "gateway.files" },
            "sign with gateway.certificates" => new SignRequest { KeyId = "gateway.certificates" },
            "translate from issuer-icbc.zpk" => new TranslatePinRequest { SourceZpkId = "issuer-icbc.zpk", DestinationZpkId = "gateway.zpk" },
            "verify gateway.zpk block" => new VerifyPinRequest { ZpkId = "gateway.zpk", Verification = new PinVerificationData { PvkId = "issuer-icbc.pvk" } },
            _ => throw new ArgumentOutOfRangeException(nameof(attack)),
        };

        var refused = await Assert.ThrowsAsync<HsmException>(() => _access.CheckAsync(caller, "issuer,gateway,switch", request, default));

        Assert.Equal(HsmErrorCode.KeyNotPermitted, refused.Code);
    }

    [Fact]
    public async Task EachOwner_MayMakeItsOwnUses()
    {
        await ProvisionAsync();

        await _access.CheckAsync("gateway", "gateway", new TranslatePinFromBrowserRequest { TransportKeyId = "gateway.pin-transport-ec", DestinationZpkId = "gateway.zpk" }, default);
        await _access.CheckAsync("switch", "switch", new TranslatePinRequest { SourceZpkId = "gateway.zpk", DestinationZpkId = "issuer-icbc.zpk" }, default);
        await _access.CheckAsync("issuer-icbc", "issuer", new VerifyPinRequest { ZpkId = "issuer-icbc.zpk", Verification = new PinVerificationData { PvkId = "issuer-icbc.pvk" } }, default);
        await _access.CheckAsync("issuer-icbc", "issuer", new ExportKeyRequest { KeyId = "issuer-icbc.zpk", ZmkId = "issuer-icbc.zmk" }, default);
        await _access.CheckAsync("operator", "operator", new KeyCheckValueRequest { KeyId = "issuer-icbc.pvk" }, default);
        foreach (var signing in new[] { "gateway.signing", "gateway.files", "gateway.certificates" })
        {
            await _access.CheckAsync("gateway", "gateway", new SignRequest { KeyId = signing }, default);
        }
        // The operator reads check values of every key but uses none in a transaction.
        var operatorMac = await Assert.ThrowsAsync<HsmException>(() =>
            _access.CheckAsync("operator", "operator", new GenerateMacRequest { KeyId = "gateway.zak" }, default));
        Assert.Equal(HsmErrorCode.KeyNotPermitted, operatorMac.Code);
    }

    [Fact]
    public async Task AnImportedZoneKey_ServesTheImporterForTheReceivingEndsUses_AndNoOneElse()
    {
        await ProvisionAsync();
        var bankZpk = await _keys.GenerateAsync("issuer-boc.bank.zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default,
            Owned(("issuer-boc", [KeyUse.PinDecrypt, KeyUse.Export])));
        await _keys.GenerateAsync("issuer-boc.zmk", KeyType.Zmk, KeyAlgorithm.Aes256, default,
            Owned(("issuer-boc", [KeyUse.Wrap]), ("switch", [KeyUse.Unwrap])));
        var (block, checkValue) = await _keys.ExportKeyBlockAsync("issuer-boc.bank.zpk", "issuer-boc.zmk", default);
        var request = new ImportKeyRequest
        {
            KeyId = "issuer-boc.zpk",
            KeyType = KeyType.Zpk,
            Algorithm = KeyAlgorithm.Tdes2Key,
            ZmkId = "issuer-boc.zmk",
            KeyBlock = block,
            ExpectedCheckValue = checkValue,
        };

        var policy = KeyAccess.ImportPolicy(request, "switch", CallerPolicy.Switch);
        var imported = await _keys.ImportAsync(request.KeyId, request.KeyType, request.Algorithm, request.ZmkId, [], checkValue, default, policy, block);

        Assert.Equal(bankZpk.CheckValue, imported.CheckValue);
        Assert.True(imported.Policy.Allows("switch", KeyUse.PinEncrypt));
        Assert.False(imported.Policy.Allows("switch", KeyUse.PinDecrypt));
        Assert.Equal(["switch"], imported.Policy.Owners);
        // Another link's id, or owners the importer chose, are refused before anything is stored.
        Assert.Throws<HsmException>(() => KeyAccess.ImportPolicy(new ImportKeyRequest(request) { KeyId = "issuer-icbc.zpk" }, "switch", CallerPolicy.Switch));
        var chosen = new ImportKeyRequest(request);
        chosen.Owners.Add(new KeyOwner { Caller = "switch", Uses = { KeyUse.PinDecrypt } });
        Assert.Throws<HsmException>(() => KeyAccess.ImportPolicy(chosen, "switch", CallerPolicy.Switch));
    }

    /// <summary>
    /// A bank sends a key whose TR-31 header allows one direction only, or no export; the operator
    /// states owners with every use. The key serves what the block allows and nothing more: the
    /// use the header left out is refused (K3) to every owner, and an export forbidden by
    /// exportability N to the operator too, even after provisioning states a wider policy.
    /// </summary>
    [Theory]
    [InlineData("P0", 'E', 'E', KeyUse.PinDecrypt, KeyUse.PinEncrypt)]
    [InlineData("P0", 'D', 'E', KeyUse.PinEncrypt, KeyUse.PinDecrypt)]
    [InlineData("M3", 'G', 'E', KeyUse.MacVerify, KeyUse.MacGenerate)]
    [InlineData("M3", 'V', 'E', KeyUse.MacGenerate, KeyUse.MacVerify)]
    [InlineData("P0", 'B', 'N', KeyUse.Export, KeyUse.PinDecrypt)]
    [InlineData("M3", 'C', 'N', KeyUse.Export, KeyUse.MacVerify)]
    public async Task AKeyFromATr31Block_NeverServesAUseItsModeOfUseOrExportabilityLeftOut(string usage, char mode, char exportability, KeyUse forbidden, KeyUse allowed)
    {
        var type = usage == "P0" ? KeyType.Zpk : KeyType.Zak;
        var zmk = await _keys.GenerateAsync("issuer-boc.zmk", KeyType.Zmk, KeyAlgorithm.Aes256, default,
            Owned(("issuer-boc", [KeyUse.Wrap, KeyUse.Unwrap]), ("switch", [KeyUse.Unwrap])));
        await _keys.GenerateAsync("issuer-boc.out.zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default, Owned(("issuer-boc", [KeyUse.PinEncrypt])));
        var value = RandomNumberGenerator.GetBytes(16);
        BlockCiphers.SetOddParity(value);
        var block = Tr31KeyBlock.Wrap(zmk.Value, usage, 'T', mode, exportability, value, null);
        KeyUse[] every = type == KeyType.Zpk ? [KeyUse.PinEncrypt, KeyUse.PinDecrypt, KeyUse.Export] : [KeyUse.MacGenerate, KeyUse.MacVerify, KeyUse.Export];
        var stated = Owned(("issuer-boc", every), ("switch", every));
        var checkValue = new HeldKey("sent", type, KeyAlgorithm.Tdes2Key, value).CheckValue;

        var imported = await _keys.ImportAsync("issuer-boc.sent", type, KeyAlgorithm.Tdes2Key, "issuer-boc.zmk", [], checkValue, default, stated, block);
        var reprovisioned = await _keys.EnsurePolicyAsync(imported, stated, default);

        object Using(KeyUse use) => use switch
        {
            KeyUse.PinEncrypt => new EncryptClearPinRequest { ZpkId = "issuer-boc.sent" },
            KeyUse.PinDecrypt => new TranslatePinRequest { SourceZpkId = "issuer-boc.sent", DestinationZpkId = "issuer-boc.out.zpk" },
            KeyUse.MacGenerate => new GenerateMacRequest { KeyId = "issuer-boc.sent" },
            KeyUse.MacVerify => new VerifyMacRequest { KeyId = "issuer-boc.sent" },
            _ => new ExportKeyRequest { KeyId = "issuer-boc.sent", ZmkId = "issuer-boc.zmk" },
        };
        foreach (var owner in new[] { "issuer-boc", "switch" })
        {
            var refused = await Assert.ThrowsAsync<HsmException>(() => _access.CheckAsync(owner, "issuer,switch", Using(forbidden), default));
            Assert.Equal((HsmErrorCode.KeyNotPermitted, "issuer-boc.sent"), (refused.Code, refused.KeyId));
            Assert.DoesNotContain(forbidden, imported.ToInfo().Owners.Single(o => o.Caller == owner).Uses);
        }
        await _access.CheckAsync("issuer-boc", "issuer,switch", Using(allowed), default);
        Assert.Equal([forbidden], reprovisioned.Policy.Forbidden);
        Assert.False(reprovisioned.Policy.Allows("issuer-boc", forbidden));
        Assert.Equal(imported.Policy.Encode(), KeyBlock.Open(Lmk, KeyBlock.Seal(Lmk, imported), "issuer-boc.sent").Policy.Encode());
        var byOperator = await Record.ExceptionAsync(() => _access.CheckAsync("operator", CallerPolicy.Operator, Using(KeyUse.Export), default));
        Assert.Equal(forbidden == KeyUse.Export, byOperator is HsmException { Code: HsmErrorCode.KeyNotPermitted });
    }

    [Fact]
    public async Task AnAesZmk_CarriesOnlyKeyBlocks_AndAKeyValueIsNeverHeldAsTwoTypes()
    {
        await _keys.GenerateAsync("aes.zmk", KeyType.Zmk, KeyAlgorithm.Aes256, default);
        await _keys.GenerateAsync("tdes.zmk", KeyType.Zmk, KeyAlgorithm.Tdes2Key, default);
        var zak = await _keys.GenerateAsync("bank.zak", KeyType.Zak, KeyAlgorithm.Tdes2Key, default);
        var (cryptogram, checkValue) = await _keys.ExportAsync("bank.zak", "tdes.zmk", default);
        var (block, _) = await _keys.ExportKeyBlockAsync("bank.zak", "aes.zmk", default);

        var bareUnderAes = await Assert.ThrowsAsync<HsmException>(() => _keys.ExportAsync("bank.zak", "aes.zmk", default));
        var importBare = await Assert.ThrowsAsync<HsmException>(() =>
            _keys.ImportAsync("bank.zak2", KeyType.Zak, KeyAlgorithm.Tdes2Key, "aes.zmk", Convert.FromHexString("0123456789ABCDEF0123456789ABCDEF"), "000000", default));
        // The MAC key brought in again as a PIN key, where the 3DES form binds no type: refused by its value.
        var asPinKey = await Assert.ThrowsAsync<HsmException>(() =>
            _keys.ImportAsync("bank.zpk-from-zak", KeyType.Zpk, KeyAlgorithm.Tdes2Key, "tdes.zmk", cryptogram, checkValue, default));
        var asPinKeyBlock = await Assert.ThrowsAsync<HsmException>(() =>
            _keys.ImportAsync("bank.zpk-from-block", KeyType.Zpk, KeyAlgorithm.Tdes2Key, "aes.zmk", [], checkValue, default, keyBlock: block));

        Assert.Equal(HsmErrorCode.InvalidInput, bareUnderAes.Code);
        Assert.Equal(HsmErrorCode.InvalidInput, importBare.Code);
        Assert.Equal(HsmErrorCode.InvalidKeyType, asPinKey.Code);
        Assert.Equal(HsmErrorCode.InvalidKeyType, asPinKeyBlock.Code);
        Assert.Equal(zak.CheckValue, (await _keys.ImportAsync("bank.zak-copy", KeyType.Zak, KeyAlgorithm.Tdes2Key, "aes.zmk", [], checkValue, default, keyBlock: block)).CheckValue);
    }

    [Fact]
    public async Task VerifyPin_AnUnreadableBlock_IsAFailedVerification_NotAnotherCode()
    {
        var (zpk, verification) = await IssuerAsync();
        var data = new PinVerificationData { Method = PinVerificationMethod.VisaPvv, PvkId = "pvk", Pvki = 1, Pvv = "0000", PinLength = 6 };
        var block = PinAndMac.WritePin(zpk, "123456", PinFormat.Iso0, Pan);
        var codes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pan in Enumerable.Range(0, 30).Select(i => $"62220200{i:D2}0000015").Append(Pan))
        {
            var refused = await Assert.ThrowsAsync<HsmException>(() => verification.VerifyAsync(new VerifyPinRequest
            {
                ZpkId = zpk.KeyId,
                PinBlock = ByteString.CopyFrom(block),
                Format = Contracts.Hsm.PinBlockFormat.Iso0,
                Pan = pan,
                Verification = data,
            }, default));
            codes.Add(refused.Code);
        }

        Assert.Equal([HsmErrorCode.VerificationFailure], codes);
    }

    [Theory]
    [InlineData(KeyType.Pvk)]
    [InlineData(KeyType.Cvk)]
    [InlineData(KeyType.Zmk)]
    public async Task KeysThatNeverLeave_AreNotExported_EvenByTheOperator(KeyType type)
    {
        await _keys.GenerateAsync("zmk-out", KeyType.Zmk, KeyAlgorithm.Tdes3Key, default);
        await _keys.GenerateAsync("stays", type, KeyAlgorithm.Tdes2Key, default);

        var refused = await Assert.ThrowsAsync<HsmException>(() => _keys.ExportAsync("stays", "zmk-out", default));

        Assert.Equal(HsmErrorCode.InvalidKeyType, refused.Code);
    }

    [Fact]
    public async Task AKey_IsNotExportedUnderAWeakerZmk()
    {
        await _keys.GenerateAsync("zmk-weak", KeyType.Zmk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk-aes", KeyType.Zpk, KeyAlgorithm.Aes256, default);

        var refused = await Assert.ThrowsAsync<HsmException>(() => _keys.ExportAsync("zpk-aes", "zmk-weak", default));

        Assert.Equal(HsmErrorCode.InvalidKeyType, refused.Code);
    }

    [Fact]
    public async Task ADoubleLengthKeyWithEqualHalves_IsRefused()
    {
        var half = Convert.FromHexString("0123456789ABCDEF");
        byte[] single = [.. half, .. half];

        var refused = await Assert.ThrowsAsync<HsmException>(() => _keys.FormFromComponentsAsync("single-des", KeyType.Zpk, KeyAlgorithm.Tdes2Key,
            [single, Convert.FromHexString("01010101010101010101010101010101")], default));

        Assert.Equal(HsmErrorCode.InvalidInput, refused.Code);
    }

    [Theory]
    [InlineData("0000000000000000")]
    [InlineData("0123456789012340")]
    public async Task Ibm3624_WithACallerChosenDecimalisationTable_IsRefused(string table)
    {
        var (zpk, verification) = await IssuerAsync();
        var block = PinAndMac.WritePin(zpk, "1234", PinFormat.Iso0, Pan);

        var refused = await Assert.ThrowsAsync<HsmException>(() => verification.GenerateAsync(new GeneratePinVerificationValueRequest
        {
            ZpkId = zpk.KeyId,
            PinBlock = ByteString.CopyFrom(block),
            Format = Contracts.Hsm.PinBlockFormat.Iso0,
            Pan = Pan,
            Verification = new PinVerificationData { Method = PinVerificationMethod.Ibm3624Offset, PvkId = "pvk", DecimalisationTable = table, ValidationData = "0123456789AN" },
        }, default));

        Assert.Equal(HsmErrorCode.InvalidInput, refused.Code);
    }

    [Fact]
    public async Task Ibm3624_WithValidationDataThatDoesNotBindTheCard_IsRefused()
    {
        var (zpk, verification) = await IssuerAsync();

        var refused = await Assert.ThrowsAsync<HsmException>(() => verification.GenerateAsync(new GeneratePinVerificationValueRequest
        {
            ZpkId = zpk.KeyId,
            PinBlock = ByteString.CopyFrom(PinAndMac.WritePin(zpk, "1234", PinFormat.Iso0, Pan)),
            Format = Contracts.Hsm.PinBlockFormat.Iso0,
            Pan = Pan,
            Verification = new PinVerificationData { Method = PinVerificationMethod.Ibm3624Offset, PvkId = "pvk", ValidationData = "0123456789ABCDEF" },
        }, default));

        Assert.Equal(HsmErrorCode.InvalidInput, refused.Code);
    }

    [Fact]
    public async Task VisaPvv_APinOfAnotherLength_WithTheSameFirstFourDigits_FailsVerification()
    {
        var (zpk, verification) = await IssuerAsync();
        var data = new PinVerificationData { Method = PinVerificationMethod.VisaPvv, PvkId = "pvk", Pvki = 1, PinLength = 6 };
        data.Pvv = await verification.GenerateAsync(new GeneratePinVerificationValueRequest
        {
            ZpkId = zpk.KeyId,
            PinBlock = ByteString.CopyFrom(PinAndMac.WritePin(zpk, "123456", PinFormat.Iso0, Pan)),
            Format = Contracts.Hsm.PinBlockFormat.Iso0,
            Pan = Pan,
            Verification = data,
        }, default);

        foreach (var guess in new[] { "1234", "12349", "1234999", "123499999999" })
        {
            var refused = await Assert.ThrowsAsync<HsmException>(() => verification.VerifyAsync(new VerifyPinRequest
            {
                ZpkId = zpk.KeyId,
                PinBlock = ByteString.CopyFrom(PinAndMac.WritePin(zpk, guess, PinFormat.Iso0, Pan)),
                Format = Contracts.Hsm.PinBlockFormat.Iso0,
                Pan = Pan,
                Verification = data,
            }, default));
            Assert.Equal(HsmErrorCode.VerificationFailure, refused.Code);
        }
        await verification.VerifyAsync(new VerifyPinRequest
        {
            ZpkId = zpk.KeyId,
            PinBlock = ByteString.CopyFrom(PinAndMac.WritePin(zpk, "123456", PinFormat.Iso0, Pan)),
            Format = Contracts.Hsm.PinBlockFormat.Iso0,
            Pan = Pan,
            Verification = data,
        }, default);
    }

    [Fact]
    public async Task AWrongPan_AndAGarbageBlock_GiveTheSameErrorAndMessage()
    {
        var (zpk, _) = await IssuerAsync();
        var pins = new PinAndMac(_keys);
        await _keys.GenerateAsync("zpk-out", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var block = PinAndMac.WritePin(zpk, "123456", PinFormat.Iso0, Pan);
        var messages = new HashSet<string>(StringComparer.Ordinal);
        var codes = new HashSet<string>(StringComparer.Ordinal);
        var wrongPans = Enumerable.Range(0, 50).Select(i => $"62220200000{i:D4}9");
        foreach (var wrongPan in wrongPans)
        {
            try
            {
                await pins.TranslatePinAsync(zpk.KeyId, "zpk-out", block, PinFormat.Iso0, PinFormat.Iso0, wrongPan, default);
            }
            catch (HsmException ex)
            {
                codes.Add(ex.Code);
                messages.Add(ex.Message);
            }
        }
        for (var i = 0; i < 50; i++)
        {
            try
            {
                await pins.TranslatePinAsync(zpk.KeyId, "zpk-out", RandomNumberGenerator.GetBytes(8), PinFormat.Iso0, PinFormat.Iso0, Pan, default);
            }
            catch (HsmException ex)
            {
                codes.Add(ex.Code);
                messages.Add(ex.Message);
            }
        }

        Assert.Equal([HsmErrorCode.PinBlockInvalid], codes);
        Assert.Equal([PinAndMac.UnreadableBlock], messages);
    }

    [Fact]
    public async Task AMacShorterThanEightBytes_IsNotAccepted()
    {
        await _keys.GenerateAsync("zak", KeyType.Zak, KeyAlgorithm.Tdes2Key, default);
        var pins = new PinAndMac(_keys);
        var data = Encoding.ASCII.GetBytes("0200 purchase");
        var mac = await pins.GenerateMacAsync("zak", data, Crypto.MacAlgorithm.Iso9797Alg3, Crypto.MacPadding.Method1, default);

        var refused = await Assert.ThrowsAsync<HsmException>(() =>
            pins.VerifyMacAsync("zak", data, Crypto.MacAlgorithm.Iso9797Alg3, Crypto.MacPadding.Method1, mac[..4], default));

        Assert.Equal(HsmErrorCode.VerificationFailure, refused.Code);
        await pins.VerifyMacAsync("zak", data, Crypto.MacAlgorithm.Iso9797Alg3, Crypto.MacPadding.Method1, mac[..8], default);
    }

    [Fact]
    public void ClearPinsIn_AreTheCardIssuingRolesAlone()
    {
        foreach (var role in new[] { CallerPolicy.Issuer, CallerPolicy.Gateway, CallerPolicy.Switch, CallerPolicy.Operator })
        {
            Assert.False(CallerPolicy.May(role, "EncryptClearPin"), role);
            Assert.False(CallerPolicy.May(role, "GeneratePinVerificationValue"), role);
        }
        Assert.True(CallerPolicy.May($"{CallerPolicy.Issuer},{CallerPolicy.CardIssuing}", "EncryptClearPin"));
    }

    private async Task<(HeldKey Zpk, PinVerification Verification)> IssuerAsync()
    {
        var zpk = await _keys.GenerateAsync("zpk-iss", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("pvk", KeyType.Pvk, KeyAlgorithm.Tdes2Key, default);
        return (zpk, new PinVerification(_keys));
    }

    /// <summary>The AppHost's ceremony, in small: the acquirer's keys, two banks' keys and ZMKs.</summary>
    private async Task ProvisionAsync()
    {
        await _keys.GenerateAsync("gateway.zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default, Owned(("gateway", [KeyUse.PinEncrypt]), ("switch", [KeyUse.PinDecrypt])));
        await _keys.GenerateAsync("gateway.zak", KeyType.Zak, KeyAlgorithm.Tdes2Key, default,
            Owned(("gateway", [KeyUse.MacGenerate, KeyUse.MacVerify]), ("switch", [KeyUse.MacGenerate, KeyUse.MacVerify])));
        await _keys.GenerateAsync("gateway.dek", KeyType.Dek, KeyAlgorithm.Aes256, default, Owned(("gateway", [KeyUse.DataEncrypt, KeyUse.DataDecrypt])));
        foreach (var signing in new[] { "gateway.signing", "gateway.files", "gateway.certificates" })
        {
            await _keys.GenerateAsync(signing, KeyType.Signing, KeyAlgorithm.EcP256, default, Owned(("gateway", [KeyUse.Sign, KeyUse.SignatureVerify])));
        }
        await _keys.GenerateAsync("gateway.pin-transport-ec", KeyType.PinTransport, KeyAlgorithm.EcP256, default, Owned(("gateway", [KeyUse.PinTransport])));
        foreach (var bank in new[] { "issuer-icbc", "issuer-ccb" })
        {
            await _keys.GenerateAsync($"{bank}.zmk", KeyType.Zmk, KeyAlgorithm.Tdes2Key, default, Owned((bank, [KeyUse.Wrap]), ("switch", [KeyUse.Unwrap])));
            await _keys.GenerateAsync($"{bank}.zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default,
                Owned((bank, [KeyUse.PinDecrypt, KeyUse.Export]), ("switch", [KeyUse.PinEncrypt])));
            await _keys.GenerateAsync($"{bank}.zak", KeyType.Zak, KeyAlgorithm.Tdes2Key, default,
                Owned((bank, [KeyUse.MacGenerate, KeyUse.MacVerify, KeyUse.Export]), ("switch", [KeyUse.MacGenerate, KeyUse.MacVerify])));
            await _keys.GenerateAsync($"{bank}.pvk", KeyType.Pvk, KeyAlgorithm.Tdes2Key, default, Owned((bank, [KeyUse.PinVerification])));
        }
    }
}
