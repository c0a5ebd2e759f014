using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The Hsm attacked by a process that holds one service's credential, through the published
/// contract only, on the running platform: each attack is refused with its payShield code, leaves
/// an audit row, and changes nothing.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class HsmAttackTests(MeshPlatformFixture platform)
{
    private const string IcbcCard = "6222020000000015";

    /// <summary>
    /// The ceremony's key policy, written out independently of the AppHost: who owns each working
    /// key. Any caller not listed must be refused (K3) even to read the key's check value.
    /// </summary>
    private static readonly Dictionary<string, string[]> Owners = new(StringComparer.Ordinal)
    {
        ["gateway.zpk"] = ["gateway", "switch"],
        ["gateway.zak"] = ["gateway", "switch"],
        ["gateway.dek"] = ["gateway"],
        ["gateway.signing"] = ["gateway"],
        ["gateway.files"] = ["gateway"],
        ["gateway.certificates"] = ["gateway"],
        ["gateway.netpay-signing"] = ["gateway"],
        ["gateway.envelope"] = ["gateway"],
        ["gateway.pin-transport-ec"] = ["gateway"],
        ["gateway.pin-transport-rsa"] = ["gateway"],
        ["issuer-icbc.zmk"] = ["issuer-icbc", "switch"],
        ["issuer-icbc.zpk"] = ["issuer-icbc", "switch"],
        ["issuer-icbc.zak"] = ["issuer-icbc", "switch"],
        ["issuer-icbc.pvk"] = ["issuer-icbc"],
        ["issuer-icbc.cvk"] = ["issuer-icbc"],
        ["issuer-icbc.dek"] = ["issuer-icbc"],
        ["issuer-ccb.zpk"] = ["issuer-ccb", "switch"],
        ["issuer-ccb.pvk"] = ["issuer-ccb"],
        ["issuer-ccb.dek"] = ["issuer-ccb"],
        ["issuer-boc.zmk"] = ["issuer-boc", "switch"],
        ["issuer-boc.bank.zpk"] = ["issuer-boc"],
        ["issuer-boc.bank.zak"] = ["issuer-boc"],
        ["issuer-boc.bank.pvk"] = ["issuer-boc"],
    };

    private static readonly string[] Services = ["gateway", "switch", "issuer-icbc", "issuer-ccb", "issuer-boc"];

    [Fact]
    public async Task EveryService_ReadsOnlyTheKeysItOwns_EveryOtherIsRefusedWithK3_AndAudited()
    {
        var wrong = new List<string>();
        foreach (var caller in Services)
        {
            var (hsm, channel) = await HsmCaller.ConnectAsync(platform, caller);
            using var _ = channel;
            foreach (var (keyId, owners) in Owners)
            {
                var owned = owners.Contains(caller);
                var outcome = "done";
                try
                {
                    await hsm.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = keyId });
                }
                catch (RpcException ex)
                {
                    outcome = HsmCaller.ErrorCode(ex) ?? ex.StatusCode.ToString();
                }
                if (owned ? outcome != "done" : outcome != "K3")
                {
                    wrong.Add($"{caller} {keyId}: {outcome}");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.True(await AuditedAsync("issuer-icbc", "KeyCheckValue", "gateway.zpk", "refused: K3") >= 1);
    }

    [Fact]
    public async Task Attack1_ABankMakesAPinBlockUnderTheAcquirersZpk_AndReadsItThroughADecimalisationTable_IsRefused()
    {
        var (bank, channel) = await HsmCaller.ConnectAsync(platform, "issuer-icbc");
        using var _ = channel;

        var foreignBlock = await Assert.ThrowsAsync<RpcException>(async () => await bank.EncryptClearPinAsync(new EncryptClearPinRequest
        {
            ZpkId = "gateway.zpk",
            Pin = "123456",
            Format = PinBlockFormat.Iso0,
            Pan = IcbcCard,
        }));
        // Its own ZPK (development issues test cards with it), then the classic attack: a table of zeros makes the offset the PIN.
        var ownBlock = await bank.EncryptClearPinAsync(new EncryptClearPinRequest { ZpkId = "issuer-icbc.zpk", Pin = "123456", Format = PinBlockFormat.Iso0, Pan = IcbcCard });
        var zeros = await Assert.ThrowsAsync<RpcException>(async () => await bank.GeneratePinVerificationValueAsync(new GeneratePinVerificationValueRequest
        {
            ZpkId = "issuer-icbc.zpk",
            PinBlock = ownBlock.PinBlock,
            Format = PinBlockFormat.Iso0,
            Pan = IcbcCard,
            Verification = new PinVerificationData
            {
                Method = PinVerificationMethod.Ibm3624Offset,
                PvkId = "issuer-icbc.pvk",
                DecimalisationTable = "0000000000000000",
                ValidationData = "0123456789AN",
            },
        }));

        Assert.Equal("K3", HsmCaller.ErrorCode(foreignBlock));
        Assert.Equal(StatusCode.PermissionDenied, foreignBlock.StatusCode);
        Assert.Equal("15", HsmCaller.ErrorCode(zeros));
        Assert.True(await AuditedAsync("issuer-icbc", "EncryptClearPin", "gateway.zpk", "refused: K3") >= 1);
        Assert.True(await AuditedAsync("issuer-icbc", "GeneratePinVerificationValue", null, "failed: 15") >= 1);
    }

    [Fact]
    public async Task Attack2_ABankExportsTheAcquirersZpkUnderItsOwnZmk_IsRefused()
    {
        var (bank, channel) = await HsmCaller.ConnectAsync(platform, "issuer-icbc");
        using var _ = channel;

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await bank.ExportKeyAsync(new ExportKeyRequest { KeyId = "gateway.zpk", ZmkId = "issuer-icbc.zmk" }));
        var own = await bank.ExportKeyAsync(new ExportKeyRequest { KeyId = "issuer-icbc.zpk", ZmkId = "issuer-icbc.zmk" });

        Assert.Equal("K3", HsmCaller.ErrorCode(refused));
        Assert.StartsWith("D0112P0TB00N0000", own.KeyBlock, StringComparison.Ordinal); // a TR-31 block under the bank's AES ZMK
        Assert.True(await AuditedAsync("issuer-icbc", "ExportKey", "gateway.zpk", "refused: K3") >= 1);
    }

    [Fact]
    public async Task Attack3_TheGatewayMacsUnderABanksZak_IsRefused_OnTheSessionStreamToo()
    {
        var (gateway, channel) = await HsmCaller.ConnectAsync(platform, "gateway");
        using var _ = channel;
        var forged = new GenerateMacRequest { KeyId = "issuer-icbc.zak", Data = ByteString.CopyFromUtf8("0420 reversal"), Algorithm = MacAlgorithm.Iso9797Alg3 };
        var auditedBefore = await AuditedAsync("gateway", "GenerateMac", null, "refused: K3");

        var unary = await Assert.ThrowsAsync<RpcException>(async () => await gateway.GenerateMacAsync(forged));
        await using var session = new HsmSession(() => gateway);
        var onStream = await session.ExecuteBatchAsync([new HsmCommand { GenerateMac = forged }], CancellationToken.None);

        Assert.Equal("K3", HsmCaller.ErrorCode(unary));
        Assert.Equal(((int)StatusCode.PermissionDenied, "K3"), (onStream[0].Refusal.StatusCode, onStream[0].Refusal.HsmErrorCode));
        Assert.Equal(auditedBefore + 2, await AuditedAsync("gateway", "GenerateMac", null, "refused: K3"));
    }

    [Fact]
    public async Task Attack4_TheSwitchTranslatesACardBoundBlockIntoFormat1_IsRefused()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var (cardSwitch, switchChannel) = await HsmCaller.ConnectAsync(platform, "switch");
        using var _ = switchChannel;
        var pin = ByteString.CopyFrom(await acquirer.PinBlockAsync("123456", IcbcCard));

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await cardSwitch.TranslatePinAsync(new TranslatePinRequest
        {
            SourceZpkId = "gateway.zpk",
            DestinationZpkId = "issuer-icbc.zpk",
            PinBlock = pin,
            SourceFormat = PinBlockFormat.Iso3,
            DestinationFormat = PinBlockFormat.Iso1,
            Pan = IcbcCard,
        }));
        var allowed = await cardSwitch.TranslatePinAsync(new TranslatePinRequest
        {
            SourceZpkId = "gateway.zpk",
            DestinationZpkId = "issuer-icbc.zpk",
            PinBlock = pin,
            SourceFormat = PinBlockFormat.Iso3,
            DestinationFormat = PinBlockFormat.Iso0,
            Pan = IcbcCard,
        });

        Assert.Equal("23", HsmCaller.ErrorCode(refused));
        Assert.Equal(8, allowed.PinBlock.Length);
    }

    [Fact]
    public async Task TheSwitch_ImportsAZoneKeyOnlyAsItsLinksOwn_NeitherChoosingOwnersNorIdsNorTypes()
    {
        var (bank, bankChannel) = await HsmCaller.ConnectAsync(platform, "issuer-icbc");
        var (cardSwitch, switchChannel) = await HsmCaller.ConnectAsync(platform, "switch");
        using var a = bankChannel;
        using var b = switchChannel;
        var zak = await bank.ExportKeyAsync(new ExportKeyRequest { KeyId = "issuer-icbc.zak", ZmkId = "issuer-icbc.zmk" });
        ImportKeyRequest Import(string keyId, KeyType type) => new()
        {
            KeyId = keyId,
            KeyType = type,
            Algorithm = KeyAlgorithm.Tdes2Key,
            ZmkId = "issuer-icbc.zmk",
            KeyBlock = zak.KeyBlock,
            ExpectedCheckValue = zak.CheckValue,
        };
        var withOwners = Import("issuer-icbc.zak-2", KeyType.Zak);
        withOwners.Owners.Add(new KeyOwner { Caller = "switch", Uses = { KeyUse.PinDecrypt } });

        var owners = await Assert.ThrowsAsync<RpcException>(async () => await cardSwitch.ImportKeyAsync(withOwners));
        var otherLink = await Assert.ThrowsAsync<RpcException>(async () => await cardSwitch.ImportKeyAsync(Import("issuer-ccb.zak-2", KeyType.Zak)));
        var asPinKey = await Assert.ThrowsAsync<RpcException>(async () => await cardSwitch.ImportKeyAsync(Import("issuer-icbc.zpk-2", KeyType.Zpk)));
        var bare = await Assert.ThrowsAsync<RpcException>(async () => await cardSwitch.ImportKeyAsync(new ImportKeyRequest
        {
            KeyId = "issuer-icbc.zak-3",
            KeyType = KeyType.Zak,
            Algorithm = KeyAlgorithm.Tdes2Key,
            ZmkId = "issuer-icbc.zmk",
            Cryptogram = ByteString.CopyFrom(new byte[16]),
            ExpectedCheckValue = zak.CheckValue,
        }));

        Assert.Equal(("15", "15", "04", "15"), (HsmCaller.ErrorCode(owners), HsmCaller.ErrorCode(otherLink), HsmCaller.ErrorCode(asPinKey), HsmCaller.ErrorCode(bare)));
        var (op, opChannel) = await HsmCaller.ConnectAsync(platform, "operator");
        using var c = opChannel;
        foreach (var keyId in new[] { "issuer-icbc.zak-2", "issuer-ccb.zak-2", "issuer-icbc.zpk-2", "issuer-icbc.zak-3" })
        {
            Assert.Equal("K1", HsmCaller.ErrorCode(await Assert.ThrowsAsync<RpcException>(async () => await op.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = keyId }))));
        }
    }

    [Fact]
    public async Task AKeyFromABlockThatForbidsExport_IsNeverExported_NotByTheOperator_NorByAnOwnerItWasGivenExportFor()
    {
        var (bank, bankChannel) = await HsmCaller.ConnectAsync(platform, "issuer-icbc");
        var (op, opChannel) = await HsmCaller.ConnectAsync(platform, "operator");
        using var a = bankChannel;
        using var b = opChannel;
        var sent = await bank.ExportKeyAsync(new ExportKeyRequest { KeyId = "issuer-icbc.zak", ZmkId = "issuer-icbc.zmk" });
        var keyId = $"issuer-icbc.zak-{Guid.NewGuid():N}"[..32];
        var imported = await op.ImportKeyAsync(new ImportKeyRequest
        {
            KeyId = keyId,
            KeyType = KeyType.Zak,
            Algorithm = KeyAlgorithm.Tdes2Key,
            ZmkId = "issuer-icbc.zmk",
            KeyBlock = sent.KeyBlock,
            ExpectedCheckValue = sent.CheckValue,
            Owners = { new KeyOwner { Caller = "issuer-icbc", Uses = { KeyUse.MacGenerate, KeyUse.MacVerify, KeyUse.Export } } },
        });
        var export = new ExportKeyRequest { KeyId = keyId, ZmkId = "issuer-icbc.zmk" };

        var byOperator = await Assert.ThrowsAsync<RpcException>(async () => await op.ExportKeyAsync(export));
        var byOwner = await Assert.ThrowsAsync<RpcException>(async () => await bank.ExportKeyAsync(export));
        var mac = await bank.GenerateMacAsync(new GenerateMacRequest { KeyId = keyId, Data = ByteString.CopyFromUtf8("0800"), Algorithm = MacAlgorithm.Iso9797Alg3 });

        Assert.Equal('N', sent.KeyBlock[11]); // the block's exportability
        Assert.Equal([KeyUse.MacGenerate, KeyUse.MacVerify], imported.Owners.Single().Uses);
        Assert.Equal(("K3", "K3"), (HsmCaller.ErrorCode(byOperator), HsmCaller.ErrorCode(byOwner)));
        Assert.Equal(8, mac.Mac.Length);
        Assert.Equal(1L, await AuditedAsync("operator", "ExportKey", keyId, "refused: K3"));
        Assert.Equal(1L, await AuditedAsync("issuer-icbc", "ExportKey", keyId, "refused: K3"));
    }

    /// <summary>
    /// A bank sends a ZPK and a ZAK in TR-31 blocks that allow one direction only, under a ZMK formed
    /// by the custodians; the operator imports each stating both directions for the bank. The
    /// direction each block left out is refused to the bank (K3) and audited; the other one works.
    /// </summary>
    [Fact]
    public async Task AKeyFromAOneDirectionTr31Block_IsRefusedTheOtherDirection_AndEachRefusalIsAudited()
    {
        var (op, opChannel) = await HsmCaller.ConnectAsync(platform, "operator");
        var (bank, bankChannel) = await HsmCaller.ConnectAsync(platform, "issuer-icbc");
        var (first, firstChannel) = await HsmCaller.ConnectAsync(platform, "custodian-1");
        var (second, secondChannel) = await HsmCaller.ConnectAsync(platform, "custodian-2");
        using var a = opChannel;
        using var b = bankChannel;
        using var c = firstChannel;
        using var d = secondChannel;
        var zmkId = $"zmk-tr31-{Guid.NewGuid():N}"[..30];
        var components = new[] { RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32) };
        var custodians = new[] { first, second };
        for (var i = 0; i < 2; i++)
        {
            await custodians[i].SubmitKeyComponentAsync(new SubmitKeyComponentRequest
            {
                KeyId = zmkId,
                KeyType = KeyType.Zmk,
                Algorithm = KeyAlgorithm.Aes256,
                ComponentsRequired = 2,
                Component = ByteString.CopyFrom(components[i]),
            });
        }
        var zmk = components[0].Zip(components[1], (x, y) => (byte)(x ^ y)).ToArray();
        async Task<string> ImportAsync(KeyType type, string usage, char mode, params KeyUse[] uses)
        {
            var key = RandomNumberGenerator.GetBytes(16);
            for (var i = 0; i < key.Length; i++)
            {
                key[i] = (byte)((key[i] & 0xFE) | (BitOperations.PopCount((uint)key[i] & 0xFE) % 2 == 0 ? 1 : 0));
            }
            using var tdes = TripleDES.Create();
            tdes.Key = [.. key, .. key[..8]]; // 2-key 3DES as K1 K2 K1
            var keyId = $"issuer-icbc.{usage}{mode}-{Guid.NewGuid():N}"[..32];
            await op.ImportKeyAsync(new ImportKeyRequest
            {
                KeyId = keyId,
                KeyType = type,
                Algorithm = KeyAlgorithm.Tdes2Key,
                ZmkId = zmkId,
                KeyBlock = Tr31VersionD(zmk, usage, mode, key),
                ExpectedCheckValue = Convert.ToHexString(tdes.EncryptEcb(new byte[8], PaddingMode.None), 0, 3),
                Owners = { new KeyOwner { Caller = "issuer-icbc", Uses = { uses } } },
            });
            return keyId;
        }
        var encryptOnly = await ImportAsync(KeyType.Zpk, "P0", 'E', KeyUse.PinEncrypt, KeyUse.PinDecrypt);
        var decryptOnly = await ImportAsync(KeyType.Zpk, "P0", 'D', KeyUse.PinEncrypt, KeyUse.PinDecrypt);
        var generateOnly = await ImportAsync(KeyType.Zak, "M3", 'G', KeyUse.MacGenerate, KeyUse.MacVerify);
        var verifyOnly = await ImportAsync(KeyType.Zak, "M3", 'V', KeyUse.MacGenerate, KeyUse.MacVerify);
        var data = ByteString.CopyFromUtf8("0200 purchase");

        var pinBlock = await bank.EncryptClearPinAsync(new EncryptClearPinRequest { ZpkId = encryptOnly, Pin = "123456", Format = PinBlockFormat.Iso0, Pan = IcbcCard });
        var readUnderEncryptOnly = await Assert.ThrowsAsync<RpcException>(async () => await bank.VerifyPinAsync(new VerifyPinRequest
        {
            ZpkId = encryptOnly,
            PinBlock = pinBlock.PinBlock,
            Format = PinBlockFormat.Iso0,
            Pan = IcbcCard,
            Verification = new PinVerificationData { Method = PinVerificationMethod.VisaPvv, PvkId = "issuer-icbc.pvk", Pvki = 1, Pvv = "0000", PinLength = 6 },
        }));
        var writtenUnderDecryptOnly = await Assert.ThrowsAsync<RpcException>(async () =>
            await bank.EncryptClearPinAsync(new EncryptClearPinRequest { ZpkId = decryptOnly, Pin = "123456", Format = PinBlockFormat.Iso0, Pan = IcbcCard }));
        var mac = await bank.GenerateMacAsync(new GenerateMacRequest { KeyId = generateOnly, Data = data, Algorithm = MacAlgorithm.Iso9797Alg3 });
        var verifiedUnderGenerateOnly = await Assert.ThrowsAsync<RpcException>(async () =>
            await bank.VerifyMacAsync(new VerifyMacRequest { KeyId = generateOnly, Data = data, Mac = mac.Mac, Algorithm = MacAlgorithm.Iso9797Alg3 }));
        var generatedUnderVerifyOnly = await Assert.ThrowsAsync<RpcException>(async () =>
            await bank.GenerateMacAsync(new GenerateMacRequest { KeyId = verifyOnly, Data = data, Algorithm = MacAlgorithm.Iso9797Alg3 }));

        Assert.Equal(8, pinBlock.PinBlock.Length);
        Assert.All([readUnderEncryptOnly, writtenUnderDecryptOnly, verifiedUnderGenerateOnly, generatedUnderVerifyOnly],
            refused => Assert.Equal("K3", HsmCaller.ErrorCode(refused)));
        Assert.Equal(1L, await AuditedAsync("issuer-icbc", "VerifyPin", encryptOnly, "refused: K3"));
        Assert.Equal(1L, await AuditedAsync("issuer-icbc", "EncryptClearPin", decryptOnly, "refused: K3"));
        Assert.Equal(1L, await AuditedAsync("issuer-icbc", "VerifyMac", generateOnly, "refused: K3"));
        Assert.Equal(1L, await AuditedAsync("issuer-icbc", "GenerateMac", verifyOnly, "refused: K3"));
    }

    /// <summary>
    /// An X9.143 / TR-31 version D block of a 2-key 3DES key under an AES-256 KBPK, exportable (E),
    /// written here independently of the Hsm: KBEK and KBMK by AES-CMAC in counter mode, the CMAC of
    /// header and padded key data as the MAC and the IV of the AES-CBC encryption.
    /// </summary>
    private static string Tr31VersionD(byte[] kbpk, string usage, char mode, byte[] key)
    {
        byte[] Cmac(byte[] macKey, byte[] input)
        {
            var cmac = new CMac(new AesEngine());
            cmac.Init(new KeyParameter(macKey));
            cmac.BlockUpdate(input, 0, input.Length);
            var output = new byte[16];
            cmac.DoFinal(output, 0);
            return output;
        }
        byte[] Derive(byte keyUsage) =>
            [.. Cmac(kbpk, [1, 0, keyUsage, 0, 0, 4, 1, 0]), .. Cmac(kbpk, [2, 0, keyUsage, 0, 0, 4, 1, 0])];
        byte[] clear = [0x00, 0x80, .. key, .. RandomNumberGenerator.GetBytes(14)];
        var header = $"D0112{usage}T{mode}00E0000";
        var mac = Cmac(Derive(1), [.. Encoding.ASCII.GetBytes(header), .. clear]);
        using var aes = Aes.Create();
        aes.Key = Derive(0);
        return header + Convert.ToHexString(aes.EncryptCbc(clear, mac, PaddingMode.None)) + Convert.ToHexString(mac);
    }

    [Fact]
    public async Task Attack5_NoServiceButTheGatewaySignsWithThePlatformsKeys_AndSettlementHoldsNoHsmCredential()
    {
        var model = platform.App.Services.GetRequiredService<DistributedApplicationModel>();
        Assert.DoesNotContain(model.Resources.OfType<ParameterResource>(), p => p.Name == "settlement-hsm-secret");
        foreach (var caller in new[] { "switch", "issuer-icbc" })
        {
            var (hsm, channel) = await HsmCaller.ConnectAsync(platform, caller);
            using var _ = channel;
            foreach (var keyId in new[] { "gateway.signing", "gateway.files", "gateway.certificates" })
            {
                var refused = await Assert.ThrowsAsync<RpcException>(async () =>
                    await hsm.SignAsync(new SignRequest { KeyId = keyId, Data = ByteString.CopyFromUtf8("respCode=0000"), Scheme = SignatureScheme.EcdsaP256Sha256 }));
                Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            }
        }
    }

    [Fact]
    public async Task NoCredential_AWrongSecret_AndAnotherServicesSecretUnderThisName_AreUnauthenticated()
    {
        var switchSecret = await HsmCaller.SecretOfAsync(platform, "switch");
        var attempts = new[]
        {
            await HsmCaller.ConnectAsync(platform, "gateway", secret: ""),
            await HsmCaller.ConnectAsync(platform, "gateway", secret: new string('0', 64)),
            // A secret stolen from the switch, presented as the gateway's.
            await HsmCaller.ConnectAsync(platform, "gateway", secret: switchSecret),
            await HsmCaller.ConnectAsync(platform, "nobody", secret: switchSecret),
        };
        foreach (var (hsm, channel) in attempts)
        {
            using var _ = channel;
            var refused = await Assert.ThrowsAsync<RpcException>(async () =>
                await hsm.SignAsync(new SignRequest { KeyId = "gateway.signing", Data = ByteString.CopyFromUtf8("x"), Scheme = SignatureScheme.EcdsaP256Sha256 }));
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        }
    }

    [Fact]
    public async Task ABurstOfPinFailures_IsCountedAndAuditedOnce()
    {
        var (bank, channel) = await HsmCaller.ConnectAsync(platform, "issuer-ccb");
        using var _ = channel;
        const string card = "6217000000000014";
        var block = await bank.EncryptClearPinAsync(new EncryptClearPinRequest { ZpkId = "issuer-ccb.zpk", Pin = "999999", Format = PinBlockFormat.Iso0, Pan = card });

        for (var i = 0; i < 25; i++)
        {
            await Assert.ThrowsAsync<RpcException>(async () => await bank.VerifyPinAsync(new VerifyPinRequest
            {
                ZpkId = "issuer-ccb.zpk",
                PinBlock = block.PinBlock,
                Format = PinBlockFormat.Iso0,
                Pan = card,
                Verification = new PinVerificationData { Method = PinVerificationMethod.VisaPvv, PvkId = "issuer-ccb.pvk", Pvki = 1, Pvv = "0000", PinLength = 6 },
            }));
        }

        Assert.True(await AuditedAsync("issuer-ccb", "VerifyPin", null, "failed: 01") >= 25);
        Assert.True(await AuditedAsync("issuer-ccb", "PinFailureBurst", null, null) >= 1);
    }

    [Fact]
    public async Task DualControl_NoSingleCallerFormsAKey_NotTheOperator_NotOneCustodianTwice_NotWithOtherAttributes()
    {
        var (op, opChannel) = await HsmCaller.ConnectAsync(platform, "operator");
        var (first, firstChannel) = await HsmCaller.ConnectAsync(platform, "custodian-1");
        var (second, secondChannel) = await HsmCaller.ConnectAsync(platform, "custodian-2");
        using var a = opChannel;
        using var b = firstChannel;
        using var c = secondChannel;
        var keyId = $"zmk-dual-{Guid.NewGuid():N}"[..30];
        SubmitKeyComponentRequest Component(string hex, KeyType type = KeyType.Zmk) => new()
        {
            KeyId = keyId,
            KeyType = type,
            Algorithm = KeyAlgorithm.Tdes2Key,
            ComponentsRequired = 2,
            Component = ByteString.CopyFrom(Convert.FromHexString(hex)),
        };

        var byOperator = await Assert.ThrowsAsync<RpcException>(async () => await op.SubmitKeyComponentAsync(Component("10101010101010101010101010101010")));
        await first.SubmitKeyComponentAsync(Component("10101010101010101010101010101010"));
        var twice = await Assert.ThrowsAsync<RpcException>(async () => await first.SubmitKeyComponentAsync(Component("1032547698BADCFEEFCDAB8967452301")));
        var otherType = await Assert.ThrowsAsync<RpcException>(async () =>
            await second.SubmitKeyComponentAsync(Component("1032547698BADCFEEFCDAB8967452301", KeyType.Zpk)));
        var notFormed = await Assert.ThrowsAsync<RpcException>(async () => await op.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = keyId }));
        var formed = await second.SubmitKeyComponentAsync(Component("1032547698BADCFEEFCDAB8967452301"));

        Assert.Equal("68", HsmCaller.ErrorCode(byOperator));
        Assert.Equal("15", HsmCaller.ErrorCode(twice));
        Assert.Equal("15", HsmCaller.ErrorCode(otherType));
        Assert.Equal("K1", HsmCaller.ErrorCode(notFormed));
        Assert.Equal("08D7B4", formed.Key.CheckValue);
        Assert.True(await AuditedAsync("custodian-1", "SubmitKeyComponent", keyId, "done") >= 1);
        Assert.True(await AuditedAsync("operator", "SubmitKeyComponent", keyId, "refused") >= 1);
    }

    private async Task<long> AuditedAsync(string caller, string command, string? keyId, string? outcome)
    {
        await using var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("hsmdb"));
        await db.OpenAsync();
        await using var count = new NpgsqlCommand(
            """
            SELECT count(*) FROM audit_log
            WHERE caller = @caller AND command = @command AND (@key::text IS NULL OR key_id = @key) AND (@outcome::text IS NULL OR outcome = @outcome)
            """, db);
        count.Parameters.AddWithValue("caller", caller);
        count.Parameters.AddWithValue("command", command);
        count.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)keyId ?? DBNull.Value });
        count.Parameters.Add(new NpgsqlParameter("outcome", NpgsqlDbType.Text) { Value = (object?)outcome ?? DBNull.Value });
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
