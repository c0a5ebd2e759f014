using System.Diagnostics;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Access;
using Mesh.Hsm.Commands;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;
using Npgsql;

namespace Mesh.Hsm.Grpc;

public sealed class HsmService(
    LocalMasterKey lmk,
    IKeyStore store,
    KeyManagement keys,
    Ceremonies.KeyCeremonies ceremonies,
    PinAndMac pins,
    BrowserPins browserPins,
    PinVerification pinVerification,
    Cards cards,
    DataProtection data,
    Signatures signatures,
    LmkRotation rotation,
    HsmMetrics metrics,
    AuditLog audit,
    KeyAccess keyAccess,
    PinFailureWatch pinFailures,
    TimeProvider time,
    ILogger<HsmService> logger) : Contracts.Hsm.Hsm.HsmBase
{
    public const string FirmwareVersion = "mesh-hsm-0.2";

    /// <summary>Commands of one session stream being run at once; the stream waits beyond that.</summary>
    public const int SessionInFlightMax = 256;

    /// <summary>
    /// A caller's transaction-path commands over one stream: run concurrently (at most
    /// <see cref="SessionInFlightMax"/>), each checked against the caller's role, each its own
    /// span in the caller's trace, answered by id as they finish.
    /// </summary>
    public override async Task Session(IAsyncStreamReader<HsmCommand> requestStream, IServerStreamWriter<HsmResult> responseStream, ServerCallContext context)
    {
        var role = CallerAuthorizationInterceptor.RoleOf(context);
        var caller = CallerAuthorizationInterceptor.CallerOf(context);
        var results = Channel.CreateBounded<HsmResult>(SessionInFlightMax);
        using var inFlight = new SemaphoreSlim(SessionInFlightMax, SessionInFlightMax);
        var writer = Task.Run(async () =>
        {
            while (await results.Reader.WaitToReadAsync())
            {
                while (results.Reader.TryRead(out var result))
                {
                    // Results that finished together leave in one flush, as the caller's commands arrive.
                    responseStream.WriteOptions = results.Reader.Count > 0 ? HsmSession.BufferedWrite : null;
                    await responseStream.WriteAsync(result);
                }
            }
        });
        try
        {
            await foreach (var command in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await inFlight.WaitAsync(context.CancellationToken);
                _ = RunAsync(command);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            for (var i = 0; i < SessionInFlightMax; i++)
            {
                await inFlight.WaitAsync(CancellationToken.None);
            }
            results.Writer.TryComplete();
            await writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        async Task RunAsync(HsmCommand command)
        {
            try
            {
                await results.Writer.WriteAsync(await ExecuteAsync(command, role, caller, context));
            }
            catch (ChannelClosedException)
            {
            }
            finally
            {
                inFlight.Release();
            }
        }
    }

    /// <summary>Most commands in one batch (<see cref="HsmBatch"/>).</summary>
    public const int BatchMax = HsmSession.BatchMax;

    private async Task<HsmResult> ExecuteAsync(HsmCommand command, string role, string caller, ServerCallContext context, BatchSoFar? batch = null)
    {
        if (command.CommandCase == HsmCommand.CommandOneofCase.Batch)
        {
            return await ExecuteBatchAsync(command, role, caller, context);
        }
        var started = time.GetTimestamp();
        var result = await RunAsync(command, role, caller, context, batch);
        metrics.Ran(command.CommandCase.ToString(), caller, result.ResultCase switch
        {
            HsmResult.ResultOneofCase.Refusal when result.Refusal.HsmErrorCode == HsmErrorCode.CommandDisabled => "refused",
            HsmResult.ResultOneofCase.Refusal => "failed",
            _ => "done",
        }, time.GetElapsedTime(started));
        return result;
    }

    /// <summary>
    /// Each command of a batch in order, as if it had come alone: checked against the caller's
    /// role, counted, its span in the caller's trace, answered or refused on its own. A GenerateMac
    /// may take the PIN block of an earlier command (<see cref="PinBlockSplicing"/>).
    /// </summary>
    private async Task<HsmResult> ExecuteBatchAsync(HsmCommand batch, string role, string caller, ServerCallContext context)
    {
        var commands = batch.Batch.Commands;
        if (commands.Count is 0 or > BatchMax || commands.Any(c => c.CommandCase == HsmCommand.CommandOneofCase.Batch))
        {
            return new HsmResult
            {
                Id = batch.Id,
                Refusal = new HsmRefusal
                {
                    StatusCode = (int)StatusCode.InvalidArgument,
                    HsmErrorCode = HsmErrorCode.InvalidInput,
                    Message = $"{HsmErrorCode.InvalidInput}: a batch holds 1 to {BatchMax} commands, none of them a batch",
                },
            };
        }
        var results = new HsmBatchResult();
        var soFar = new BatchSoFar(commands, results.Results);
        foreach (var command in commands)
        {
            command.Id = batch.Id;
            command.Traceparent = batch.Traceparent;
            results.Results.Add(await ExecuteAsync(command, role, caller, context, soFar));
        }
        return new HsmResult { Id = batch.Id, Batch = results };
    }

    private async Task<HsmResult> RunAsync(HsmCommand command, string role, string caller, ServerCallContext context, BatchSoFar? batch)
    {
        var name = command.CommandCase.ToString();
        ActivityContext.TryParse(command.Traceparent, null, out var parent);
        using var activity = HsmTelemetry.Source.StartActivity($"hsm {name}", ActivityKind.Server, parent);
        var result = new HsmResult { Id = command.Id };
        var request = HsmCommand.Descriptor.Oneofs[0].Accessor.GetCaseFieldDescriptor(command)?.Accessor.GetValue(command);
        if (request is null || !CallerPolicy.May(role, name))
        {
            await AuditRefusalAsync(request is null ? null : CallerAuthorizationInterceptor.KeyIdOf(request), name, role, caller, HsmErrorCode.CommandDisabled, $"{name} is not allowed");
            result.Refusal = new HsmRefusal { StatusCode = (int)StatusCode.PermissionDenied, HsmErrorCode = HsmErrorCode.CommandDisabled, Message = $"{name} is not allowed" };
            return result;
        }
        try
        {
            await keyAccess.CheckAsync(caller, role, request, context.CancellationToken);
        }
        catch (HsmException ex) when (ex.Code == HsmErrorCode.KeyNotPermitted)
        {
            await AuditRefusalAsync(ex.KeyId, name, role, caller, ex.Code, ex.Message);
            result.Refusal = new HsmRefusal { StatusCode = (int)StatusCode.PermissionDenied, HsmErrorCode = ex.Code, Message = $"{ex.Code}: {ex.Message}" };
            return result;
        }
        catch (HsmException ex)
        {
            result.Refusal = new HsmRefusal { StatusCode = (int)HsmErrorInterceptor.StatusCodeOf(ex.Code), HsmErrorCode = ex.Code, Message = $"{ex.Code}: {ex.Message}" };
            return result;
        }
        try
        {
            switch (command.CommandCase)
            {
                case HsmCommand.CommandOneofCase.TranslatePin:
                    result.TranslatePin = await TranslatePin(command.TranslatePin, context);
                    break;
                case HsmCommand.CommandOneofCase.GenerateMac:
                    result.GenerateMac = await GenerateMac(
                        batch is not null && command.GenerateMac.PinBlockFromBatch is not null ? PinBlockSplicing.Spliced(command.GenerateMac, batch) : command.GenerateMac,
                        context);
                    break;
                case HsmCommand.CommandOneofCase.VerifyMac:
                    result.VerifyMac = await VerifyMac(command.VerifyMac, context);
                    break;
                case HsmCommand.CommandOneofCase.VerifyPin:
                    result.VerifyPin = await VerifyPin(command.VerifyPin, context);
                    break;
                case HsmCommand.CommandOneofCase.LookupHash:
                    result.LookupHash = await LookupHash(command.LookupHash, context);
                    break;
                case HsmCommand.CommandOneofCase.TranslatePinFromBrowser:
                    result.TranslatePinFromBrowser = await TranslatePinFromBrowser(command.TranslatePinFromBrowser, context);
                    break;
                case HsmCommand.CommandOneofCase.EncryptData:
                    result.EncryptData = await EncryptData(command.EncryptData, context);
                    break;
                case HsmCommand.CommandOneofCase.DecryptData:
                    result.DecryptData = await DecryptData(command.DecryptData, context);
                    break;
                case HsmCommand.CommandOneofCase.Sign:
                    result.Sign = await Sign(command.Sign, context);
                    break;
            }
        }
        catch (HsmException ex)
        {
            activity?.SetTag("hsm.error_code", ex.Code);
            result.Refusal = new HsmRefusal { StatusCode = (int)HsmErrorInterceptor.StatusCodeOf(ex.Code), HsmErrorCode = ex.Code, Message = $"{ex.Code}: {ex.Message}" };
            await pinFailures.FailedAsync(caller, name, ex.Code, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The key store unreachable, say: the caller hears "unavailable", as from a unary call; no detail leaves the Hsm.
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            result.Refusal = new HsmRefusal { StatusCode = (int)StatusCode.Unavailable, Message = $"{name} could not be run" };
        }
        return result;
    }

    /// <summary>
    /// A command refused on a session stream is logged and audited as a unary one is (the
    /// interceptor does that); the refusal is answered even when the audit cannot be written.
    /// </summary>
    private async Task AuditRefusalAsync(string? keyId, string name, string role, string caller, string code, string reason)
    {
        logger.LogWarning("Refused {Command} to {Caller} ({Role}) on its session: {Reason}", name, caller, role, reason);
        try
        {
            await audit.RecordAsync(caller, name, keyId, code == HsmErrorCode.CommandDisabled ? "refused" : $"refused: {code}", CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogError(ex, "The refusal of {Command} to {Caller} could not be audited", name, caller);
        }
    }

    /// <summary>payShield NC: the LMK check value and what the key store holds.</summary>
    public override async Task<HsmDiagnosticsReply> Diagnostics(HsmDiagnosticsRequest request, ServerCallContext context)
    {
        var started = time.GetTimestamp();
        var keyCount = await store.CountAsync(context.CancellationToken);
        return new HsmDiagnosticsReply
        {
            LmkCheckValue = lmk.CheckValue,
            LmkAlgorithm = lmk.Algorithm,
            KeyCount = keyCount,
            DatabaseLatencyMs = time.GetElapsedTime(started).TotalMilliseconds,
            FirmwareVersion = FirmwareVersion,
            PreviousLmkCheckValue = lmk.PreviousCheckValue ?? "",
        };
    }

    public override async Task<RotateLmkReply> RotateLmk(RotateLmkRequest request, ServerCallContext context)
    {
        var (previous, current, reencrypted) = await rotation.RotateAsync(context.CancellationToken);
        return new RotateLmkReply { PreviousCheckValue = previous, CheckValue = current, KeysReencrypted = reencrypted };
    }

    public override async Task<KeyInfo> RotateKeyPair(RotateKeyPairRequest request, ServerCallContext context)
    {
        var slot = await keys.RotatePairAsync(request.KeyId, request.CurrentCheckValue, TimeSpan.FromSeconds(request.OverlapSeconds), context.CancellationToken);
        return InfoOf(slot);
    }

    public override async Task<EraseOldLmkReply> EraseOldLmk(EraseOldLmkRequest request, ServerCallContext context) =>
        new() { ErasedCheckValue = await rotation.ErasePreviousAsync(context.CancellationToken) };

    public override async Task<KeyInfo> GenerateKey(GenerateKeyRequest request, ServerCallContext context) =>
        (await keys.GenerateAsync(request.KeyId, request.KeyType, request.Algorithm, context.CancellationToken, KeyPolicy.FromProto(request.Owners, request.PinBlockFormats))).ToInfo();

    public override Task<SubmitKeyComponentReply> SubmitKeyComponent(SubmitKeyComponentRequest request, ServerCallContext context) =>
        ceremonies.SubmitAsync(CallerAuthorizationInterceptor.CallerOf(context), request, context.CancellationToken);

    public override Task<AbortKeyCeremonyReply> AbortKeyCeremony(AbortKeyCeremonyRequest request, ServerCallContext context) =>
        ceremonies.AbortAsync(request.KeyId, context.CancellationToken);

    public override async Task<KeyInfo> KeyCheckValue(KeyCheckValueRequest request, ServerCallContext context) =>
        InfoOf(await keys.GetSlotAsync(request.KeyId, context.CancellationToken));

    public override async Task<KeyInfo> ImportKey(ImportKeyRequest request, ServerCallContext context)
    {
        CheckExchange(context, request.KeyType);
        var role = CallerAuthorizationInterceptor.RoleOf(context);
        if (!CallerPolicy.MayImport(role, request.NextVersion))
        {
            throw new HsmException(HsmErrorCode.CommandDisabled, $"a {role} caller imports only the next version of a zone key it holds");
        }
        if (request.NextVersion)
        {
            KeyAccess.CheckKeyOfLink(request.ZmkId, request.KeyId);
            await keys.ImportAsync(request.KeyId, request.KeyType, request.Algorithm, request.ZmkId, request.Cryptogram.ToByteArray(),
                request.ExpectedCheckValue, context.CancellationToken, keyBlock: request.KeyBlock, nextVersion: true);
            return InfoOf(await keys.GetSlotAsync(request.KeyId, context.CancellationToken));
        }
        return (await keys.ImportAsync(request.KeyId, request.KeyType, request.Algorithm, request.ZmkId,
            request.Cryptogram.ToByteArray(), request.ExpectedCheckValue, context.CancellationToken,
            KeyAccess.ImportPolicy(request, CallerAuthorizationInterceptor.CallerOf(context), role), request.KeyBlock)).ToInfo();
    }

    public override async Task<ExportKeyReply> GenerateKeyVersion(GenerateKeyVersionRequest request, ServerCallContext context)
    {
        KeyAccess.CheckKeyOfLink(request.ZmkId, request.KeyId);
        var (key, block, cryptogram) = await keys.GenerateVersionAsync(request.KeyId, request.ZmkId, request.Format == KeyExchangeFormat.Tr31, context.CancellationToken);
        return new ExportKeyReply { KeyBlock = block ?? "", Cryptogram = cryptogram is null ? ByteString.Empty : ByteString.CopyFrom(cryptogram), CheckValue = key.CheckValue };
    }

    public override async Task<KeyInfo> ActivateKeyVersion(ActivateKeyVersionRequest request, ServerCallContext context) =>
        InfoOf(await keys.ActivateVersionAsync(request.KeyId, request.CheckValue, TimeSpan.FromSeconds(request.GraceSeconds), context.CancellationToken));

    public override async Task<KeyInfo> DiscardKeyVersion(DiscardKeyVersionRequest request, ServerCallContext context) =>
        InfoOf(await keys.DiscardVersionAsync(request.KeyId, request.CheckValue, context.CancellationToken));

    /// <summary>The current version's information, with the pending and previous versions' check values while a key changes.</summary>
    private KeyInfo InfoOf(KeySlot slot)
    {
        var info = slot.Current.ToInfo();
        info.PendingCheckValue = slot.Pending?.CheckValue ?? "";
        if (slot.PreviousAt(time.GetUtcNow()) is { } previous)
        {
            info.PreviousCheckValue = previous.CheckValue;
            info.PreviousRetiresAtUnixMs = slot.PreviousRetiresAt!.Value.ToUnixTimeMilliseconds();
        }
        return info;
    }

    public override async Task<ExportKeyReply> ExportKey(ExportKeyRequest request, ServerCallContext context)
    {
        if (request.Format == KeyExchangeFormat.Tr31)
        {
            var (block, kcv) = await keys.ExportKeyBlockAsync(request.KeyId, request.ZmkId, context.CancellationToken);
            return new ExportKeyReply { KeyBlock = block, CheckValue = kcv };
        }
        var (cryptogram, checkValue) = await keys.ExportAsync(request.KeyId, request.ZmkId, context.CancellationToken);
        return new ExportKeyReply { Cryptogram = ByteString.CopyFrom(cryptogram), CheckValue = checkValue };
    }

    private static void CheckExchange(ServerCallContext context, KeyType type)
    {
        var role = CallerAuthorizationInterceptor.RoleOf(context);
        if (!CallerPolicy.MayExchange(role, type))
        {
            throw new HsmException(HsmErrorCode.CommandDisabled, $"a {role} caller moves only zone keys (ZPK, ZAK) under a ZMK, not a {type}");
        }
    }

    public override async Task<TranslatePinReply> TranslatePin(TranslatePinRequest request, ServerCallContext context)
    {
        var block = await pins.TranslatePinAsync(request.SourceZpkId, request.DestinationZpkId, request.PinBlock.ToByteArray(),
            (Crypto.PinBlockFormat)request.SourceFormat, (Crypto.PinBlockFormat)request.DestinationFormat,
            string.IsNullOrEmpty(request.Pan) ? null : request.Pan, context.CancellationToken);
        return new TranslatePinReply { PinBlock = ByteString.CopyFrom(block) };
    }

    public override async Task<TranslatePinReply> EncryptClearPin(EncryptClearPinRequest request, ServerCallContext context) =>
        new()
        {
            PinBlock = ByteString.CopyFrom(await pins.EncryptClearPinAsync(request.ZpkId, request.Pin, (Crypto.PinBlockFormat)request.Format,
                string.IsNullOrEmpty(request.Pan) ? null : request.Pan, context.CancellationToken)),
        };

    public override async Task<LookupHashReply> LookupHash(LookupHashRequest request, ServerCallContext context) =>
        new() { LookupHash = ByteString.CopyFrom(await data.LookupHashAsync(request.DekId, request.Data.ToByteArray(), context.CancellationToken)) };

    public override async Task<GenerateMacReply> GenerateMac(GenerateMacRequest request, ServerCallContext context)
    {
        if (request.PinBlockFromBatch is not null)
        {
            throw PinBlockSplicing.OutsideABatch();
        }
        var mac = await pins.GenerateMacAsync(request.KeyId, request.Data.ToByteArray(), Map(request.Algorithm), Map(request.Padding), context.CancellationToken);
        return new GenerateMacReply { Mac = ByteString.CopyFrom(mac) };
    }

    public override async Task<VerifyMacReply> VerifyMac(VerifyMacRequest request, ServerCallContext context)
    {
        await pins.VerifyMacAsync(request.KeyId, request.Data.ToByteArray(), Map(request.Algorithm), Map(request.Padding),
            request.Mac.ToByteArray(), context.CancellationToken);
        return new VerifyMacReply();
    }

    public override async Task<GetPublicKeyReply> GetPublicKey(GetPublicKeyRequest request, ServerCallContext context)
    {
        var slot = await keys.GetSlotAsync(request.KeyId, context.CancellationToken);
        var now = time.GetUtcNow();
        var key = slot.VersionAt(request.CheckValue, now);
        var reply = new GetPublicKeyReply
        {
            SubjectPublicKeyInfo = ByteString.CopyFrom(KeyPairs.PublicKeyInfo(key.Pair)),
            Algorithm = key.Algorithm,
            CheckValue = key.CheckValue,
        };
        if (slot.PreviousAt(now) is { } previous && previous.IsKeyPair)
        {
            reply.PreviousCheckValue = previous.CheckValue;
            reply.PreviousRetiresAtUnixMs = slot.PreviousRetiresAt!.Value.ToUnixTimeMilliseconds();
        }
        return reply;
    }

    public override async Task<TranslatePinReply> TranslatePinFromBrowser(TranslatePinFromBrowserRequest request, ServerCallContext context) =>
        new() { PinBlock = ByteString.CopyFrom(await browserPins.TranslateAsync(request, context.CancellationToken)) };

    public override async Task<VerifyPinReply> VerifyPin(VerifyPinRequest request, ServerCallContext context)
    {
        await pinVerification.VerifyAsync(request, context.CancellationToken);
        return new VerifyPinReply();
    }

    public override async Task<GeneratePinVerificationValueReply> GeneratePinVerificationValue(GeneratePinVerificationValueRequest request, ServerCallContext context) =>
        new() { Value = await pinVerification.GenerateAsync(request, context.CancellationToken) };

    public override async Task<GenerateCvvReply> GenerateCvv(GenerateCvvRequest request, ServerCallContext context) =>
        new() { Cvv = await cards.GenerateCvvAsync(request.CvkId, request.Pan, request.Expiry, request.ServiceCode, context.CancellationToken) };

    public override async Task<VerifyCvvReply> VerifyCvv(VerifyCvvRequest request, ServerCallContext context)
    {
        await cards.VerifyCvvAsync(request.CvkId, request.Pan, request.Expiry, request.ServiceCode, request.Cvv, context.CancellationToken);
        return new VerifyCvvReply();
    }

    public override async Task<EncryptDataReply> EncryptData(EncryptDataRequest request, ServerCallContext context)
    {
        var (ciphertext, hash) = await data.EncryptAsync(request.DekId, request.Plaintext.ToByteArray(), context.CancellationToken);
        return new EncryptDataReply { Ciphertext = ByteString.CopyFrom(ciphertext), LookupHash = ByteString.CopyFrom(hash) };
    }

    public override async Task<DecryptDataReply> DecryptData(DecryptDataRequest request, ServerCallContext context) =>
        new() { Plaintext = ByteString.CopyFrom(await data.DecryptAsync(request.DekId, request.Ciphertext.ToByteArray(), context.CancellationToken)) };

    public override async Task<SignReply> Sign(SignRequest request, ServerCallContext context) =>
        new() { Signature = ByteString.CopyFrom(await signatures.SignAsync(request.KeyId, request.Data.ToByteArray(), request.Scheme, context.CancellationToken, request.CheckValue)) };

    public override async Task<OpenEnvelopeKeyReply> OpenEnvelopeKey(OpenEnvelopeKeyRequest request, ServerCallContext context) =>
        new() { ContentKey = ByteString.CopyFrom(await signatures.OpenEnvelopeKeyAsync(request.KeyId, request.EncryptedKey.ToByteArray(), context.CancellationToken, request.CheckValue)) };

    public override async Task<VerifyReply> Verify(VerifyRequest request, ServerCallContext context)
    {
        await signatures.VerifyAsync(request, context.CancellationToken);
        return new VerifyReply();
    }

    private static Crypto.MacAlgorithm Map(Contracts.Hsm.MacAlgorithm algorithm) => algorithm switch
    {
        Contracts.Hsm.MacAlgorithm.Iso9797Alg3 => Crypto.MacAlgorithm.Iso9797Alg3,
        Contracts.Hsm.MacAlgorithm.Iso9797Alg1 => Crypto.MacAlgorithm.Iso9797Alg1,
        Contracts.Hsm.MacAlgorithm.AesCmac => Crypto.MacAlgorithm.AesCmac,
        _ => throw new HsmException(HsmErrorCode.InvalidInput, "unknown MAC algorithm"),
    };

    private static Crypto.MacPadding Map(Contracts.Hsm.MacPadding padding) => padding switch
    {
        Contracts.Hsm.MacPadding.Method1 => Crypto.MacPadding.Method1,
        Contracts.Hsm.MacPadding.Method2 => Crypto.MacPadding.Method2,
        _ => throw new HsmException(HsmErrorCode.InvalidInput, "unknown MAC padding"),
    };
}
