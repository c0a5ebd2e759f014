using Aspire.Hosting.Testing;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mesh.Contracts.Hsm;
using Mesh.Iso8583.Messages;
using Npgsql;

namespace Mesh.EndToEnd.Tests;

/// <summary>The Hsm as its callers see it: over gRPC, with their own credentials, keys in hsmdb.</summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class HsmTests(MeshPlatformFixture platform)
{
    private const string Pan = "6222021234567890128";

    private Task<(Contracts.Hsm.Hsm.HsmClient Client, GrpcChannel Channel)> AsAsync(string caller) => HsmCaller.ConnectAsync(platform, caller);

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..30];

    [Fact]
    public async Task TwoCustodians_EachSubmitAComponent_TheKeyHasThePublishedCheckValue_AndIsHeldInHsmdb()
    {
        var (first, firstChannel) = await AsAsync("custodian-1");
        var (second, secondChannel) = await AsAsync("custodian-2");
        using var a = firstChannel;
        using var b = secondChannel;
        var keyId = Unique("zmk");
        SubmitKeyComponentRequest Component(string hex) => new()
        {
            KeyId = keyId,
            KeyType = KeyType.Zmk,
            Algorithm = KeyAlgorithm.Tdes2Key,
            ComponentsRequired = 2,
            Component = ByteString.CopyFrom(Convert.FromHexString(hex)),
        };

        var half = await first.SubmitKeyComponentAsync(Component("10101010101010101010101010101010"));
        var formed = await second.SubmitKeyComponentAsync(Component("1032547698BADCFEEFCDAB8967452301"));
        var key = formed.Key;

        Assert.Equal((1, 2, null), (half.ComponentsReceived, half.ComponentsRequired, half.Key));
        Assert.Equal(2, formed.ComponentsReceived);
        Assert.Equal("08D7B4", key.CheckValue);
        await using var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("hsmdb"));
        await db.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT check_value, key_block FROM key_blocks WHERE key_id = @id", db);
        query.Parameters.AddWithValue("id", keyId);
        await using var row = await query.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal("08D7B4", row.GetString(0));
        Assert.DoesNotContain("0123456789ABCDEF", Convert.ToHexString((byte[])row[1]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyCeremony_Aborted_ErasesItsComponents_AndTheKeyIdStartsAnew_EachAbortAudited()
    {
        var (op, opChannel) = await AsAsync("operator");
        var (first, firstChannel) = await AsAsync("custodian-1");
        var (second, secondChannel) = await AsAsync("custodian-2");
        using var a = opChannel;
        using var b = firstChannel;
        using var c = secondChannel;
        var keyId = Unique("zmk-abort");
        var abort = new AbortKeyCeremonyRequest { KeyId = keyId };

        await first.SubmitKeyComponentAsync(Component(keyId, "10101010101010101010101010101010"));
        var byOperator = await op.AbortKeyCeremonyAsync(abort);
        var nothingLeft = await Assert.ThrowsAsync<RpcException>(async () => await op.AbortKeyCeremonyAsync(abort));
        var anew = await second.SubmitKeyComponentAsync(Component(keyId, "1032547698BADCFEEFCDAB8967452301"));
        var components = await CeremonyComponentsAsync(keyId);
        var byCustodian = await first.AbortKeyCeremonyAsync(abort);

        Assert.Equal(1, byOperator.ComponentsErased);
        Assert.Equal("K1", ErrorCode(nothingLeft));
        Assert.Equal((1, 0, null), (anew.ComponentsReceived, anew.ExpiredComponentsErased, anew.Key));
        Assert.Equal(["custodian-2"], components);
        Assert.Equal(1, byCustodian.ComponentsErased);
        Assert.Empty(await CeremonyComponentsAsync(keyId));
        Assert.Equal(1L, await AuditedAsync("operator", "AbortKeyCeremony", keyId, "done"));
        Assert.Equal(1L, await AuditedAsync("custodian-1", "AbortKeyCeremony", keyId, "done"));
        Assert.Equal(1L, await AuditedAsync("operator", "AbortKeyCeremony", keyId, "failed: NotFound"));
    }

    [Fact]
    public async Task AKeyCeremony_ExpiresAnHourAfterItsFirstComponent_ItsComponentsErasedWithOrWithoutANextSubmission_EachExpiryAudited()
    {
        var (first, firstChannel) = await AsAsync("custodian-1");
        var (second, secondChannel) = await AsAsync("custodian-2");
        using var a = firstChannel;
        using var b = secondChannel;
        var keyId = Unique("zmk-expiry");

        var started = await first.SubmitKeyComponentAsync(Component(keyId, "10101010101010101010101010101010"));
        // An hour and a minute go by: the ceremony's clock is moved back, as the wall clock would have moved on.
        await StartCeremonyEarlierAsync(keyId, TimeSpan.FromMinutes(61));
        var afterExpiry = await second.SubmitKeyComponentAsync(Component(keyId, "1032547698BADCFEEFCDAB8967452301"));

        Assert.InRange(started.ExpiresAtUnixMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 59 * 60_000, 60 * 60_000);
        Assert.Equal((1, null), (afterExpiry.ComponentsReceived, afterExpiry.Key));
        // This submission erased the expired component, unless the Hsm's sweep (every 15 s) did in the moment between: either way once, audited once.
        Assert.InRange(afterExpiry.ExpiredComponentsErased, 0, 1);
        Assert.Equal(["custodian-2"], await CeremonyComponentsAsync(keyId));
        Assert.Equal(1L, await AuditedAsync("hsm", "KeyCeremonyExpired", keyId, "erased: 1 component(s), 60 min after the first"));

        // Left alone past its expiry, the new ceremony is erased by the Hsm without any submission.
        await StartCeremonyEarlierAsync(keyId, TimeSpan.FromMinutes(61));
        await Eventually.TrueAsync(async () => await AuditedAsync("hsm", "KeyCeremonyExpired", keyId, null) == 2,
            "the expired ceremony erased by the Hsm and audited (a second KeyCeremonyExpired)", TimeSpan.FromSeconds(60));

        Assert.Empty(await CeremonyComponentsAsync(keyId));
    }

    [Fact]
    public async Task AKeyFormed_WhoseCeremonyRowsOutlivedIt_IsNotFormedAgain_AndTheRowsAreErasedAndAudited()
    {
        var (first, firstChannel) = await AsAsync("custodian-1");
        var (second, secondChannel) = await AsAsync("custodian-2");
        using var a = firstChannel;
        using var b = secondChannel;
        var keyId = Unique("zmk-left");
        await first.SubmitKeyComponentAsync(Component(keyId, "10101010101010101010101010101010"));
        await second.SubmitKeyComponentAsync(Component(keyId, "1032547698BADCFEEFCDAB8967452301"));
        // The Hsm stopped after storing the formed key and before deleting its ceremony: the rows are still there.
        await using (var db = await OpenHsmDbAsync())
        {
            await using var leftOver = new NpgsqlCommand(
                """
                INSERT INTO key_ceremonies (key_id, key_type, algorithm, policy, components_required, started_at) VALUES (@id, 'Zmk', 'Tdes2Key', '', 2, now());
                INSERT INTO key_ceremony_components (key_id, custodian, component_block, lmk_check_value, submitted_at)
                VALUES (@id, 'custodian-1', '\x00', '000000', now()), (@id, 'custodian-2', '\x00', '000000', now());
                """, db);
            leftOver.Parameters.AddWithValue("id", keyId);
            await leftOver.ExecuteNonQueryAsync();
        }

        var again = await Assert.ThrowsAsync<RpcException>(async () => await first.SubmitKeyComponentAsync(Component(keyId, "1032547698BADCFEEFCDAB8967452301")));
        await Eventually.TrueAsync(async () => await AuditedAsync("hsm", "KeyCeremonyLeftOver", keyId, "erased: 2 component(s) of a key already formed") == 1,
            "the formed key's left-over ceremony rows erased and audited (KeyCeremonyLeftOver)", TimeSpan.FromSeconds(60));

        Assert.Equal("K2", ErrorCode(again));
        Assert.Empty(await CeremonyComponentsAsync(keyId));
    }

    [Fact]
    public async Task TranslatePin_AsTheSwitch_Works_AsTheGateway_IsRefusedWith68_AndAudited()
    {
        var (op, opChannel) = await AsAsync("operator");
        var (switchHsm, switchChannel) = await AsAsync("switch");
        var (gatewayHsm, gatewayChannel) = await AsAsync("gateway");
        using var a = opChannel;
        using var b = switchChannel;
        using var c = gatewayChannel;
        var acquirer = Unique("zpk-acq");
        var issuer = Unique("zpk-iss");
        await op.GenerateKeyAsync(new GenerateKeyRequest { KeyId = acquirer, KeyType = KeyType.Zpk, Algorithm = KeyAlgorithm.Tdes2Key, Owners = { Owner("switch", KeyUse.PinDecrypt) } });
        await op.GenerateKeyAsync(new GenerateKeyRequest { KeyId = issuer, KeyType = KeyType.Zpk, Algorithm = KeyAlgorithm.Tdes2Key, Owners = { Owner("switch", KeyUse.PinEncrypt) } });
        var request = new TranslatePinRequest
        {
            SourceZpkId = acquirer,
            DestinationZpkId = issuer,
            PinBlock = ByteString.CopyFrom(new byte[8]),
            SourceFormat = PinBlockFormat.Iso0,
            DestinationFormat = PinBlockFormat.Iso0,
            Pan = Pan,
        };

        var garbage = await Assert.ThrowsAsync<RpcException>(async () => await switchHsm.TranslatePinAsync(request));
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await gatewayHsm.TranslatePinAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, garbage.StatusCode);
        Assert.Equal("20", ErrorCode(garbage));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal("68", ErrorCode(refused));
        await using var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("hsmdb"));
        await db.OpenAsync();
        await using var audit = new NpgsqlCommand("SELECT count(*) FROM audit_log WHERE caller = 'gateway' AND command = 'TranslatePin' AND outcome = 'refused'", db);
        Assert.True((long)(await audit.ExecuteScalarAsync())! >= 1);
    }

    [Fact]
    public async Task KeyManagement_ByAService_IsRefused_ButForZoneKeys_AndWithoutCredentials_IsUnauthenticated()
    {
        var (issuerHsm, channel) = await AsAsync("issuer-icbc");
        using var _ = channel;
        // A bank moves its zone keys under a ZMK, and no other key: not its PIN verification key (its policy has no export).
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await issuerHsm.ExportKeyAsync(new ExportKeyRequest { KeyId = "issuer-icbc.pvk", ZmkId = "issuer-icbc.zmk" }));
        var generate = await Assert.ThrowsAsync<RpcException>(async () =>
            await issuerHsm.GenerateKeyAsync(new GenerateKeyRequest { KeyId = "issuer-icbc.extra", KeyType = KeyType.Zpk, Algorithm = KeyAlgorithm.Tdes2Key }));
        Assert.Equal("K3", ErrorCode(refused));
        Assert.Equal("68", ErrorCode(generate));

        using var anonymous = GrpcChannel.ForAddress(platform.App.GetEndpoint("hsm", "grpc"));
        var unauthenticated = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Contracts.Hsm.Hsm.HsmClient(anonymous).DiagnosticsAsync(new HsmDiagnosticsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, unauthenticated.StatusCode);
    }

    [Fact]
    public async Task BadInput_IsAPayShieldErrorCode_NeverAnInternalError()
    {
        var (op, channel) = await AsAsync("operator");
        using var _ = channel;
        var cases = new Func<Task>[]
        {
            async () => await op.GenerateKeyAsync(new GenerateKeyRequest { KeyId = "", KeyType = KeyType.Zpk, Algorithm = KeyAlgorithm.Tdes2Key }),
            async () => await op.GenerateKeyAsync(new GenerateKeyRequest { KeyId = "x", KeyType = KeyType.Unspecified, Algorithm = KeyAlgorithm.Tdes2Key }),
            async () => await op.GenerateKeyAsync(new GenerateKeyRequest { KeyId = "x", KeyType = KeyType.Zpk, Algorithm = KeyAlgorithm.Rsa2048 }),
            async () => await op.SubmitKeyComponentAsync(new SubmitKeyComponentRequest { KeyId = "x", KeyType = KeyType.Zmk, Algorithm = KeyAlgorithm.Tdes2Key }),
            async () => await op.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = "no-such-key" }),
            async () => await op.ImportKeyAsync(new ImportKeyRequest { KeyId = "x", KeyType = KeyType.Zpk, Algorithm = KeyAlgorithm.Tdes2Key, ZmkId = "no-such-zmk" }),
        };
        foreach (var call in cases)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.NotEqual(StatusCode.Internal, error.StatusCode);
            Assert.NotEqual(StatusCode.Unknown, error.StatusCode);
            Assert.NotNull(ErrorCode(error));
        }
    }

    [Fact]
    public async Task LogsOfTheHsm_NeverHoldAPinAKeyOrASecret()
    {
        var (custodian, channel) = await AsAsync("custodian-1");
        using var _ = channel;
        var secret = await HsmCaller.SecretOfAsync(platform, "custodian-1");
        var component = "7C31A7E3F4B9C1D52A6E8F0B3D5C7E91";
        // The Hsm's line about this refusal (the components' parity) proves the lines searched below include this command's.
        bool Refusal((string Resource, string Line) l) => l.Resource == "hsm"
            && l.Line.Contains("SubmitKeyComponent refused", StringComparison.Ordinal) && l.Line.Contains("odd parity", StringComparison.Ordinal);
        var refusals = platform.Logs.Count(Refusal);
        await Assert.ThrowsAsync<RpcException>(async () => await custodian.SubmitKeyComponentAsync(new SubmitKeyComponentRequest
        {
            KeyId = "bad-components",
            KeyType = KeyType.Zmk,
            Algorithm = KeyAlgorithm.Tdes2Key,
            ComponentsRequired = 2,
            Component = ByteString.CopyFrom(Convert.FromHexString(component)),
        }));
        await Eventually.TrueAsync(() => platform.Logs.Count(Refusal) > refusals, "the Hsm's log of refusing the component (odd parity)");

        var lmk = Convert.ToHexString(await File.ReadAllBytesAsync(Path.Combine(platform.DataDir, "hsm", "lmk.key")));
        var leaks = platform.Logs.Where(l => l.Line.Contains(component, StringComparison.OrdinalIgnoreCase)
            || l.Line.Contains(lmk, StringComparison.OrdinalIgnoreCase)
            || l.Line.Contains(secret, StringComparison.Ordinal)).ToList();
        Assert.True(platform.Logs.Count(Refusal) > refusals, "the Hsm's line about the refused components was not captured within 10 s");
        Assert.Empty(leaks);
    }

    [Fact]
    public async Task LmkRotation_ReencryptsEveryKey_KeysKeepWorking_ThenTheOldLmkIsErased()
    {
        var (op, channel) = await AsAsync("operator");
        using var _ = channel;
        var keyId = Unique("zak-rot");
        var key = await op.GenerateKeyAsync(new GenerateKeyRequest { KeyId = keyId, KeyType = KeyType.Zak, Algorithm = KeyAlgorithm.Tdes2Key });
        var before = await op.DiagnosticsAsync(new HsmDiagnosticsRequest());

        var rotated = await op.RotateLmkAsync(new RotateLmkRequest());

        Assert.Equal(before.LmkCheckValue, rotated.PreviousCheckValue);
        Assert.NotEqual(rotated.PreviousCheckValue, rotated.CheckValue);
        Assert.True(rotated.KeysReencrypted >= 1);
        await using (var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("hsmdb")))
        {
            await db.OpenAsync();
            await using var stale = new NpgsqlCommand("SELECT count(*) FROM key_blocks WHERE lmk_check_value <> @kcv", db);
            stale.Parameters.AddWithValue("kcv", rotated.CheckValue);
            Assert.Equal(0L, (long)(await stale.ExecuteScalarAsync())!);
        }
        Assert.Equal(key.CheckValue, (await op.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = keyId })).CheckValue);
        var erased = await op.EraseOldLmkAsync(new EraseOldLmkRequest());
        Assert.Equal(rotated.PreviousCheckValue, erased.ErasedCheckValue);
        Assert.Equal("", (await op.DiagnosticsAsync(new HsmDiagnosticsRequest())).PreviousLmkCheckValue);
    }

    /// <summary>The commands each caller may run (least privilege), written out independently of the Hsm's own table.</summary>
    private static readonly Dictionary<string, string[]> MayRun = new(StringComparer.Ordinal)
    {
        ["gateway"] = ["Diagnostics", "KeyCheckValue", "GetPublicKey", "TranslatePinFromBrowser", "GenerateMac", "VerifyMac", "EncryptData", "DecryptData",
            "LookupHash", "Sign", "Verify", "OpenEnvelopeKey"],
        ["switch"] = ["Diagnostics", "KeyCheckValue", "TranslatePin", "GenerateMac", "VerifyMac", "ImportKey", "GenerateKeyVersion", "ActivateKeyVersion",
            "DiscardKeyVersion"],
        ["issuer-icbc"] = ["Diagnostics", "KeyCheckValue", "ExportKey", "ImportKey", "ActivateKeyVersion", "DiscardKeyVersion", "VerifyPin",
            "GeneratePinVerificationValue", "EncryptClearPin", "GenerateCvv", "VerifyCvv", "GenerateMac", "VerifyMac", "EncryptData", "DecryptData", "LookupHash"],
        ["operator"] = ["Diagnostics", "KeyCheckValue", "GetPublicKey", "GenerateKey", "AbortKeyCeremony", "ImportKey", "ExportKey", "GenerateKeyVersion",
            "ActivateKeyVersion", "DiscardKeyVersion", "RotateLmk", "EraseOldLmk", "RotateKeyPair"],
        ["custodian-1"] = ["SubmitKeyComponent", "AbortKeyCeremony"],
    };

    /// <summary>
    /// Every command of the Hsm's contract, called by every caller with an empty request: a command
    /// the caller may not run is refused with 68 before it reads the request (and audited); one it
    /// may run gets as far as validating the request (an import names a ZPK, the kind of key services
    /// may move). The LMK's rotation and erasure, which an
    /// operator may run, are not called here with an empty request (<see cref="LmkRotation_ReencryptsEveryKey_KeysKeepWorking_ThenTheOldLmkIsErased"/>).
    /// </summary>
    [Fact]
    public async Task EveryCommand_ForEveryCaller_IsRunOrRefusedWith68_AsTheLeastPrivilegeTableSays()
    {
        var commands = Contracts.Hsm.Hsm.Descriptor.Methods.Where(m => !m.IsClientStreaming && !m.IsServerStreaming).ToList();
        var wrong = new List<string>();
        var cells = 0;
        foreach (var (caller, allowed) in MayRun)
        {
            var (client, channel) = await AsAsync(caller);
            using var _ = channel;
            foreach (var command in commands)
            {
                var may = allowed.Contains(command.Name);
                if (may && command.Name is "RotateLmk" or "EraseOldLmk")
                {
                    continue;
                }
                cells++;
                var request = command.InputType.Parser.ParseFrom(ByteString.Empty);
                // Services move zone keys only: an import names a ZPK, or it would be refused for its key type, not its command;
                // and it is a key's next version, the one import a bank may make.
                command.InputType.FindFieldByName("key_type")?.Accessor.SetValue(request, KeyType.Zpk);
                command.InputType.FindFieldByName("next_version")?.Accessor.SetValue(request, true);
                var call = typeof(Contracts.Hsm.Hsm.HsmClient).GetMethod(command.Name + "Async",
                    [request.GetType(), typeof(Metadata), typeof(DateTime?), typeof(CancellationToken)])!;
                using var pending = (IDisposable)call.Invoke(client, [request, null, DateTime.UtcNow.AddSeconds(10), CancellationToken.None])!;
                string outcome;
                try
                {
                    await (Task)pending.GetType().GetProperty("ResponseAsync")!.GetValue(pending)!;
                    outcome = "done";
                }
                catch (RpcException ex)
                {
                    outcome = ErrorCode(ex) ?? ex.StatusCode.ToString();
                }
                if ((outcome == "68") == may)
                {
                    wrong.Add($"{caller} {command.Name}: {outcome} ({(may ? "may run it" : "may not")})");
                }
            }
        }

        Assert.True(commands.Count >= 24, $"the contract has {commands.Count} unary commands");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Equal((commands.Count * MayRun.Count) - 2, cells); // every cell but the operator's two LMK commands
    }

    [Fact]
    public async Task Batch_OnTheSessionStream_AnswersEachCommandAsIfSentAlone_EachCheckedAgainstTheCallersRole()
    {
        var (op, opChannel) = await AsAsync("operator");
        var (switchHsm, switchChannel) = await AsAsync("switch");
        using var a = opChannel;
        using var b = switchChannel;
        var zak = Unique("zak");
        var zpkFrom = Unique("zpk-acq");
        var zpkTo = Unique("zpk-iss");
        await op.GenerateKeyAsync(new GenerateKeyRequest
        {
            KeyId = zak,
            KeyType = KeyType.Zak,
            Algorithm = KeyAlgorithm.Tdes2Key,
            Owners = { Owner("switch", KeyUse.MacGenerate, KeyUse.MacVerify) }
        });
        await op.GenerateKeyAsync(new GenerateKeyRequest { KeyId = zpkFrom, KeyType = KeyType.Zpk, Algorithm = KeyAlgorithm.Tdes2Key, Owners = { Owner("switch", KeyUse.PinDecrypt) } });
        await op.GenerateKeyAsync(new GenerateKeyRequest { KeyId = zpkTo, KeyType = KeyType.Zpk, Algorithm = KeyAlgorithm.Tdes2Key, Owners = { Owner("switch", KeyUse.PinEncrypt) } });
        var data = ByteString.CopyFromUtf8("0200 6222021234567890128 000000 000000012345");
        var mac = new GenerateMacRequest { KeyId = zak, Data = data, Algorithm = MacAlgorithm.Iso9797Alg3, Padding = MacPadding.Method1 };
        var alone = (await switchHsm.GenerateMacAsync(mac)).Mac;
        var wrongMac = alone.ToByteArray();
        wrongMac[0] ^= 0x01;
        await using var session = new HsmSession(() => switchHsm);
        await using var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("hsmdb"));
        await db.OpenAsync();
        await using var audited = new NpgsqlCommand(
            "SELECT count(*) FROM audit_log WHERE caller = 'switch' AND command = 'VerifyPin' AND outcome = 'refused'", db);
        var refusalsBefore = (long)(await audited.ExecuteScalarAsync())!;

        var results = await session.ExecuteBatchAsync(
            [
                new HsmCommand { GenerateMac = mac },
                new HsmCommand { VerifyMac = new VerifyMacRequest { KeyId = zak, Data = data, Mac = alone, Algorithm = MacAlgorithm.Iso9797Alg3, Padding = MacPadding.Method1 } },
                new HsmCommand { VerifyMac = new VerifyMacRequest { KeyId = zak, Data = data, Mac = ByteString.CopyFrom(wrongMac), Algorithm = MacAlgorithm.Iso9797Alg3, Padding = MacPadding.Method1 } },
                new HsmCommand
                {
                    TranslatePin = new TranslatePinRequest
                    {
                        SourceZpkId = zpkFrom, DestinationZpkId = zpkTo, PinBlock = ByteString.CopyFrom(new byte[8]),
                        SourceFormat = PinBlockFormat.Iso0, DestinationFormat = PinBlockFormat.Iso0, Pan = Pan,
                    },
                },
                // The switch may not verify PINs: refused in the batch as it would be alone, and the rest still run.
                new HsmCommand { VerifyPin = new VerifyPinRequest { ZpkId = zpkTo, PinBlock = ByteString.CopyFrom(new byte[8]), Pan = Pan } },
            ], CancellationToken.None);

        Assert.Equal(alone, results[0].GenerateMac.Mac);
        Assert.Equal(HsmResult.ResultOneofCase.VerifyMac, results[1].ResultCase);
        Assert.Equal(((int)StatusCode.FailedPrecondition, "01"), (results[2].Refusal.StatusCode, results[2].Refusal.HsmErrorCode));
        Assert.Equal(((int)StatusCode.InvalidArgument, "20"), (results[3].Refusal.StatusCode, results[3].Refusal.HsmErrorCode));
        Assert.Equal(((int)StatusCode.PermissionDenied, "68"), (results[4].Refusal.StatusCode, results[4].Refusal.HsmErrorCode));
        Assert.Equal(StatusCode.FailedPrecondition, Assert.Throws<RpcException>(() => HsmSession.Checked(results[2])).StatusCode);
        // Refused on the stream, audited as a unary refusal is.
        Assert.Equal(refusalsBefore + 1, (long)(await audited.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Batch_AMacOverThePinBlockAnEarlierCommandMade_VerifiesAsTheIsoMacOfTheCompletedMessage_AndABadReferenceIsRefused()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var (switchHsm, channel) = await AsAsync("switch");
        using var _ = channel;
        await using var session = new HsmSession(() => switchHsm);
        var forward = new IsoMessage("0200").Set(IsoFields.Pan, Pan).Set(IsoFields.AmountTransaction, "000000012345").Set(IsoFields.Stan, "000042")
            .Set(IsoFields.Currency, "156").Set(IsoFields.OriginalDataElements, "0200");
        var (input, offset) = IsoMac.InputAwaitingPinBlock(forward);
        HsmCommand Translate(byte[] block) => new()
        {
            TranslatePin = new TranslatePinRequest
            {
                SourceZpkId = "gateway.zpk",
                DestinationZpkId = "issuer-icbc.zpk",
                PinBlock = ByteString.CopyFrom(block),
                SourceFormat = PinBlockFormat.Iso3,
                DestinationFormat = PinBlockFormat.Iso0,
                Pan = Pan,
            },
        };
        GenerateMacRequest MacOverPinBlockOf(uint commandIndex) => new()
        {
            KeyId = "issuer-icbc.zak",
            Data = ByteString.CopyFrom(input),
            Algorithm = MacAlgorithm.Iso9797Alg3,
            Padding = MacPadding.Method1,
            PinBlockFromBatch = new PinBlockSplice { CommandIndex = commandIndex, Offset = (uint)offset },
        };

        var results = await session.ExecuteBatchAsync(
            [
                Translate(await acquirer.PinBlockAsync("123456", Pan)),
                new HsmCommand { GenerateMac = MacOverPinBlockOf(0) },
                new HsmCommand { GenerateMac = MacOverPinBlockOf(3) }, // a later command
                Translate(new byte[8]), // not a PIN block: refused
                new HsmCommand { GenerateMac = MacOverPinBlockOf(3) }, // over that refused translation
                new HsmCommand { GenerateMac = MacOverPinBlockOf(1) }, // not a PIN translation
            ], CancellationToken.None);
        var unary = await Assert.ThrowsAsync<RpcException>(async () => await switchHsm.GenerateMacAsync(MacOverPinBlockOf(0)));
        var aloneOnTheStream = await Assert.ThrowsAsync<RpcException>(() => session.GenerateMacAsync(MacOverPinBlockOf(0), CancellationToken.None));

        var completed = forward.SetBinary(IsoFields.PinBlock, results[0].TranslatePin.PinBlock.Span);
        await switchHsm.VerifyMacAsync(new VerifyMacRequest
        {
            KeyId = "issuer-icbc.zak",
            Data = ByteString.CopyFrom(IsoMac.Input(completed)),
            Mac = results[1].GenerateMac.Mac,
            Algorithm = MacAlgorithm.Iso9797Alg3,
            Padding = MacPadding.Method1,
        });
        Assert.Equal(HsmResult.ResultOneofCase.Refusal, results[3].ResultCase);
        foreach (var refused in new[] { results[2], results[4], results[5] })
        {
            Assert.Equal(((int)StatusCode.InvalidArgument, "15"), (refused.Refusal.StatusCode, refused.Refusal.HsmErrorCode));
        }
        Assert.Contains("was refused: there is no PIN block to MAC", results[4].Refusal.Message, StringComparison.Ordinal);
        Assert.Equal((StatusCode.InvalidArgument, "15"), (unary.StatusCode, ErrorCode(unary)));
        Assert.Equal(StatusCode.InvalidArgument, aloneOnTheStream.StatusCode);
        Assert.Contains("only inside an HsmBatch", aloneOnTheStream.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(-1)] // a batch inside a batch
    public async Task Batch_TooLargeEmptyOrNested_IsRefusedWhole_AndTheStreamGoesOn(int size)
    {
        var (switchHsm, channel) = await AsAsync("switch");
        using var _ = channel;
        var unknownKey = new HsmCommand { VerifyMac = new VerifyMacRequest { KeyId = "no-such-zak" } };
        var batch = new HsmBatch();
        batch.Commands.AddRange(size < 0 ? [new HsmCommand { Batch = new HsmBatch { Commands = { unknownKey } } }] : Enumerable.Repeat(unknownKey, size));
        using var stream = switchHsm.Session();

        await stream.RequestStream.WriteAsync(new HsmCommand { Id = 1, Batch = batch });
        await stream.RequestStream.WriteAsync(new HsmCommand { Id = 2, VerifyMac = unknownKey.VerifyMac });
        await stream.RequestStream.CompleteAsync();
        var results = new Dictionary<ulong, HsmResult>();
        await foreach (var result in stream.ResponseStream.ReadAllAsync())
        {
            results[result.Id] = result;
        }

        Assert.Equal(((int)StatusCode.InvalidArgument, "15"), (results[1].Refusal.StatusCode, results[1].Refusal.HsmErrorCode));
        Assert.Equal("K1", results[2].Refusal.HsmErrorCode); // the next command is still answered: no such key
    }

    private static KeyOwner Owner(string caller, params KeyUse[] uses) => new() { Caller = caller, Uses = { uses } };

    private static SubmitKeyComponentRequest Component(string keyId, string hex) => new()
    {
        KeyId = keyId,
        KeyType = KeyType.Zmk,
        Algorithm = KeyAlgorithm.Tdes2Key,
        ComponentsRequired = 2,
        Component = ByteString.CopyFrom(Convert.FromHexString(hex)),
    };

    private async Task<NpgsqlConnection> OpenHsmDbAsync()
    {
        var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("hsmdb"));
        await db.OpenAsync();
        return db;
    }

    /// <summary>The custodians whose components hsmdb holds for a key id.</summary>
    private async Task<List<string>> CeremonyComponentsAsync(string keyId)
    {
        await using var db = await OpenHsmDbAsync();
        await using var query = new NpgsqlCommand("SELECT custodian FROM key_ceremony_components WHERE key_id = @id ORDER BY custodian", db);
        query.Parameters.AddWithValue("id", keyId);
        var custodians = new List<string>();
        await using var rows = await query.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            custodians.Add(rows.GetString(0));
        }
        return custodians;
    }

    private async Task StartCeremonyEarlierAsync(string keyId, TimeSpan by)
    {
        await using var db = await OpenHsmDbAsync();
        await using var update = new NpgsqlCommand("UPDATE key_ceremonies SET started_at = started_at - @by WHERE key_id = @id", db);
        update.Parameters.AddWithValue("by", by);
        update.Parameters.AddWithValue("id", keyId);
        Assert.Equal(1, await update.ExecuteNonQueryAsync());
    }

    private async Task<long> AuditedAsync(string caller, string command, string keyId, string? outcome)
    {
        await using var db = await OpenHsmDbAsync();
        await using var count = new NpgsqlCommand(
            "SELECT count(*) FROM audit_log WHERE caller = @caller AND command = @command AND key_id = @key AND (@outcome::text IS NULL OR outcome = @outcome)", db);
        count.Parameters.AddWithValue("caller", caller);
        count.Parameters.AddWithValue("command", command);
        count.Parameters.AddWithValue("key", keyId);
        count.Parameters.Add(new NpgsqlParameter("outcome", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)outcome ?? DBNull.Value });
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static string? ErrorCode(RpcException ex) => HsmCaller.ErrorCode(ex);
}
