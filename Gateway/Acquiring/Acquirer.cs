using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Contracts.Switch;
using Mesh.Gateway.Options;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;
using Mesh.ServiceDefaults.Safety;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Acquiring;

/// <summary>
/// The gateway as acquirer: the Hsm turns the browser's PIN ciphertext into an ISO 9564 PIN block
/// under the acquirer ZPK and protects card numbers at rest; requests are built as ISO 8583,
/// MAC'd under the acquirer ZAK, and sent through the switch, whose answers are MAC-checked.
/// </summary>
public sealed class Acquirer(HsmSession hsm, CardSwitch.CardSwitchClient cardSwitch, IsoPackager packager, IOptions<GatewayOptions> options)
{
    public const string AcquirerId = "08010000";
    public const string ZpkId = "gateway.zpk";
    public const string ZakId = "gateway.zak";
    public const string DekId = "gateway.dek";
    public const string EcTransportKeyId = "gateway.pin-transport-ec";
    public const string RsaTransportKeyId = "gateway.pin-transport-rsa";
    public const string TerminalId = "NETPAY01";
    public const string MerchantCategory = "5999";

    /// <summary>
    /// A purchase ready to store and send: the packed request (PIN block and MAC in), the card number as stored, and
    /// <see cref="Storable"/>, the request as it may be stored and sent again: the same for a PIN purchase; for a
    /// credit card's, the request without field 48 (its CVV2 or one-time code), MAC'd on its own.
    /// </summary>
    public sealed record SealedPurchase(byte[] Packed, byte[] PanCiphertext, byte[] PanLookupHash, byte[]? StorableOrSame = null)
    {
        public byte[] Storable => StorableOrSame ?? Packed;
    }

    /// <summary>
    /// The Hsm's whole part of a purchase's request, in one round trip: the browser's PIN turned
    /// into a PIN block under the acquirer ZPK, the card number encrypted for storage, and the
    /// request MAC'd under the acquirer ZAK, that PIN block included (the Hsm splices it into the
    /// MAC's input). Null when the Hsm finds the PIN ciphertext unreadable (a bad key, nonce or
    /// tampering).
    /// </summary>
    public async Task<SealedPurchase?> SealPurchaseAsync(IsoMessage request, EncryptedPin pin, Pan pan, CancellationToken ct)
    {
        var cardNumber = pan.Reveal();
        var (macInput, pinBlockOffset) = IsoMac.InputAwaitingPinBlock(request.Remove(IsoFields.Mac));
        var macOverPinBlock = MacRequest(macInput);
        macOverPinBlock.PinBlockFromBatch = new PinBlockSplice { CommandIndex = 0, Offset = (uint)pinBlockOffset };
        var results = await hsm.ExecuteBatchAsync(
            [
                new HsmCommand { TranslatePinFromBrowser = BrowserPin(pin, cardNumber) },
                new HsmCommand { EncryptData = new EncryptDataRequest { DekId = DekId, Plaintext = ByteString.CopyFromUtf8(cardNumber) } },
                new HsmCommand { GenerateMac = macOverPinBlock },
            ], ct);
        if (!HsmSession.Accepted(results[0]))
        {
            return null;
        }
        var pinBlock = results[0].TranslatePinFromBrowser.PinBlock.Span;
        var protectedPan = HsmSession.Checked(results[1]).EncryptData;
        var mac = HsmSession.Checked(results[2]).GenerateMac.Mac.Span;
        var packed = packager.Pack(request.SetBinary(IsoFields.PinBlock, pinBlock).SetBinary(IsoFields.Mac, mac));
        return new SealedPurchase(packed, protectedPan.Ciphertext.ToByteArray(), protectedPan.LookupHash.ToByteArray());
    }

    /// <summary>The Hsm's keyed lookup hash of a card number, the one payments store: how the risk controls' block list knows a card.</summary>
    public async Task<byte[]> LookupHashAsync(Pan pan, CancellationToken ct)
    {
        var results = await hsm.ExecuteBatchAsync(
            [new HsmCommand { LookupHash = new LookupHashRequest { DekId = DekId, Data = ByteString.CopyFromUtf8(pan.Reveal()) } }], ct);
        return HsmSession.Checked(results[0]).LookupHash.LookupHash.ToByteArray();
    }

    /// <summary>
    /// The Hsm's part of a credit card's purchase (no PIN), in one round trip: the card number encrypted for
    /// storage, the request MAC'd, and the same request without field 48 MAC'd too. The card's secrets in field 48
    /// (its CVV2, or the one-time code) are sent once and never stored: should the request need sending again
    /// (the switch never got it), the storable one goes, and the bank declines it (N7) rather than charge without them.
    /// </summary>
    public async Task<SealedPurchase> SealCardNotPresentAsync(IsoMessage request, Pan pan, CancellationToken ct)
    {
        Invariant.Holds(!request.Has(IsoFields.PinBlock) && request.Has(IsoFields.AdditionalData), "a card-not-present purchase carries field 48 and no PIN block");
        var storable = request.Clone().Remove(IsoFields.AdditionalData).Remove(IsoFields.Mac);
        var results = await hsm.ExecuteBatchAsync(
            [
                new HsmCommand { EncryptData = new EncryptDataRequest { DekId = DekId, Plaintext = ByteString.CopyFromUtf8(pan.Reveal()) } },
                new HsmCommand { GenerateMac = MacRequest(IsoMac.Input(request.Remove(IsoFields.Mac))) },
                new HsmCommand { GenerateMac = MacRequest(IsoMac.Input(storable)) },
            ], ct);
        var protectedPan = HsmSession.Checked(results[0]).EncryptData;
        var packed = packager.Pack(request.SetBinary(IsoFields.Mac, HsmSession.Checked(results[1]).GenerateMac.Mac.Span));
        var stored = packager.Pack(storable.SetBinary(IsoFields.Mac, HsmSession.Checked(results[2]).GenerateMac.Mac.Span));
        return new SealedPurchase(packed, protectedPan.Ciphertext.ToByteArray(), protectedPan.LookupHash.ToByteArray(), stored);
    }

    private static TranslatePinFromBrowserRequest BrowserPin(EncryptedPin pin, string pan)
    {
        var request = new TranslatePinFromBrowserRequest
        {
            TransportKeyId = pin.Scheme == EncryptedPin.Ecdh ? EcTransportKeyId : RsaTransportKeyId,
            Scheme = pin.Scheme == EncryptedPin.Ecdh ? BrowserPinScheme.EcdhP256AesGcm : BrowserPinScheme.RsaOaepSha256,
            Ciphertext = ByteString.CopyFrom(pin.Ciphertext),
            SessionNonce = pin.SessionNonce,
            DestinationZpkId = ZpkId,
            DestinationFormat = PinBlockFormat.Iso3,
            Pan = pan,
            TransportCheckValue = pin.TransportCheckValue,
        };
        if (pin.EphemeralPublicKey is { } point)
        {
            request.EphemeralPublicKey = ByteString.CopyFrom(point);
            request.Iv = ByteString.CopyFrom(pin.Iv);
        }
        return request;
    }

    public async Task<string> RevealPanAsync(byte[] ciphertext, CancellationToken ct) =>
        (await hsm.DecryptDataAsync(new DecryptDataRequest { DekId = DekId, Ciphertext = ByteString.CopyFrom(ciphertext) }, ct))
        .Plaintext.ToStringUtf8();

    /// <summary>A purchase (0200) without its PIN block and MAC, which <see cref="SealPurchaseAsync"/> puts in.</summary>
    public static IsoMessage Purchase(Pan pan, string expiry, long amountMinor, string currency, string stan, DateTimeOffset now, string merchantId) =>
        Build("0200", "000000", pan.Reveal(), expiry, amountMinor, currency, stan, now, merchantId);

    /// <summary>A credit card's purchase (0200, no PIN): its CVV2 in field 48, MAC'd by <see cref="SealCardNotPresentAsync"/>.</summary>
    public static IsoMessage CreditPurchase(Pan pan, string expiry, string cvv2, long amountMinor, string currency, string stan, DateTimeOffset now,
        string merchantId) =>
        Build("0200", "000000", pan.Reveal(), expiry, amountMinor, currency, stan, now, merchantId)
            .Set(IsoFields.PosEntryMode, CardNotPresentEntryMode)
            .Set(IsoFields.AdditionalData, AdditionalData.Build((AdditionalData.Cvv2, cvv2)));

    /// <summary>
    /// A credit card's purchase sent again after its bank answered 1A: the one-time code in field 48, and in field 90
    /// the challenged purchase (whose STAN and transmission time the bank's code is bound to).
    /// </summary>
    public static IsoMessage PurchaseWithCode(Pan pan, string expiry, string code, long amountMinor, string currency, string stan, DateTimeOffset now,
        string merchantId, string challengedStan, string challengedTransmission) =>
        Build("0200", "000000", pan.Reveal(), expiry, amountMinor, currency, stan, now, merchantId)
            .Set(IsoFields.PosEntryMode, CardNotPresentEntryMode)
            .Set(IsoFields.AdditionalData, AdditionalData.Build((AdditionalData.OneTimeCode, code)))
            .Set(IsoFields.OriginalDataElements, string.Concat("0200", challengedStan, challengedTransmission, AcquirerId.PadLeft(11, '0'), new string('0', 11)));

    /// <summary>Field 22 of a purchase keyed in without a PIN (PAN keyed, no PIN entry capability).</summary>
    public const string CardNotPresentEntryMode = "010";

    /// <summary>A pre-authorization (0100, processing code 03, condition 06) without its PIN block and MAC: a hold of the amount.</summary>
    public static IsoMessage PreAuthorization(Pan pan, string expiry, long amountMinor, string currency, string stan, DateTimeOffset now, string merchantId) =>
        Build("0100", PreAuthorizationProcessing, pan.Reveal(), expiry, amountMinor, currency, stan, now, merchantId)
            .Set(IsoFields.PosConditionCode, PreAuthorizationCondition);

    /// <summary>
    /// A hold's completion (0200, condition 06) pointing at the pre-authorization in field 90: the bank releases the whole hold
    /// and debits <paramref name="amountMinor"/>, at most the amount held.
    /// </summary>
    public static IsoMessage Completion(string pan, string expiry, long amountMinor, string currency, string stan, DateTimeOffset now, string merchantId,
        string holdStan, string holdTransmission) =>
        Build("0200", "000000", pan, expiry, amountMinor, currency, stan, now, merchantId)
            .Set(IsoFields.PosConditionCode, PreAuthorizationCondition)
            .Set(IsoFields.OriginalDataElements, OriginalData("0100", holdStan, holdTransmission));

    /// <summary>A hold's release: a reversal (0420) of the pre-authorization in field 90, for the amount held.</summary>
    public static IsoMessage Release(string pan, string expiry, long amountMinor, string currency, string stan, DateTimeOffset now, string merchantId,
        string holdStan, string holdTransmission) =>
        Build("0420", PreAuthorizationProcessing, pan, expiry, amountMinor, currency, stan, now, merchantId)
            .Set(IsoFields.PosConditionCode, PreAuthorizationCondition)
            .Set(IsoFields.OriginalDataElements, OriginalData("0100", holdStan, holdTransmission));

    public const string PreAuthorizationProcessing = "030000";
    public const string PreAuthorizationCondition = "06";

    private static string OriginalData(string mti, string stan, string transmission) =>
        string.Concat(mti, stan, transmission, AcquirerId.PadLeft(11, '0'), new string('0', 11));

    /// <summary>A refund advice (0220, processing code 20) pointing at the purchase in field 90.</summary>
    public static IsoMessage Refund(string pan, string expiry, long amountMinor, string currency, string stan, DateTimeOffset now, string merchantId,
        string purchaseStan, string purchaseTransmission) =>
        Build("0220", "200000", pan, expiry, amountMinor, currency, stan, now, merchantId)
            .Set(IsoFields.OriginalDataElements, string.Concat("0200", purchaseStan, purchaseTransmission, AcquirerId.PadLeft(11, '0'), new string('0', 11)));

    public static string Transmission(DateTimeOffset now) => now.UtcDateTime.ToString("MMddHHmmss", CultureInfo.InvariantCulture);

    public static string Stan(long sequence) => sequence.ToString("D6", CultureInfo.InvariantCulture);

    private static IsoMessage Build(string mti, string processingCode, string pan, string expiry, long amountMinor, string currency, string stan,
        DateTimeOffset now, string merchantId) =>
        new IsoMessage(mti)
            .Set(IsoFields.Pan, pan)
            .Set(IsoFields.ProcessingCode, processingCode)
            .Set(IsoFields.AmountTransaction, amountMinor.ToString("D12", CultureInfo.InvariantCulture))
            .Set(IsoFields.TransmissionDateTime, Transmission(now))
            .Set(IsoFields.Stan, stan)
            .Set(IsoFields.ExpiryDate, expiry)
            .Set(IsoFields.MerchantType, MerchantCategory)
            .Set(IsoFields.PosEntryMode, "012")
            .Set(IsoFields.PosConditionCode, "00")
            .Set(IsoFields.AcquirerId, AcquirerId)
            .Set(IsoFields.Rrn, now.UtcDateTime.ToString("yyMMdd", CultureInfo.InvariantCulture) + stan)
            .Set(IsoFields.TerminalId, TerminalId)
            .Set(IsoFields.MerchantId, merchantId)
            .Set(IsoFields.Currency, currency);

    /// <summary>MACs the request under the acquirer ZAK and packs it: the bytes that are stored and, if need be, sent again.</summary>
    public async Task<byte[]> SignAndPackAsync(IsoMessage request, CancellationToken ct)
    {
        var mac = await hsm.GenerateMacAsync(MacRequest(IsoMac.Input(request.Remove(IsoFields.Mac))), ct);
        return packager.Pack(request.SetBinary(IsoFields.Mac, mac.Mac.Span));
    }

    private static GenerateMacRequest MacRequest(byte[] input) => new()
    {
        KeyId = ZakId,
        Data = ByteString.CopyFrom(input),
        Algorithm = MacAlgorithm.Iso9797Alg3,
        Padding = MacPadding.Method1,
    };

    /// <summary>
    /// The packed request as it is stored to be sent again: without the card number (field 2),
    /// which the gateway keeps only encrypted (<c>pan_ciphertext</c>). Putting the number back
    /// gives the very bytes first sent, MAC included; checked here, on every request.
    /// </summary>
    public byte[] WithoutPan(byte[] packed)
    {
        var message = packager.Unpack(packed).Message ?? throw new InvalidOperationException("the gateway packed a request it cannot read");
        var pan = message.GetString(IsoFields.Pan);
        var stored = packager.Pack(message.Remove(IsoFields.Pan));
        Invariant.Holds(pan is not null && packager.Pack(packager.Unpack(stored).Message!.Set(IsoFields.Pan, pan)).AsSpan().SequenceEqual(packed),
            "a stored request with its card number back is the request first sent");
        return stored;
    }

    /// <summary>A stored request (<see cref="WithoutPan"/>) with its card number back from the Hsm: the bytes first sent.</summary>
    public async Task<byte[]> WithPanAsync(byte[] stored, byte[] panCiphertext, CancellationToken ct)
    {
        var message = packager.Unpack(stored).Message ?? throw new InvalidOperationException("a stored request cannot be read");
        return packager.Pack(message.Set(IsoFields.Pan, await RevealPanAsync(panCiphertext, ct)));
    }

    /// <summary>
    /// Sends a packed request through the switch. The answer's response code, or null when the
    /// outcome is unknown (the call failed, or the answer was unreadable or its MAC wrong): the
    /// request is then looked up, or sent again (the switch answers a repeat with its first answer).
    /// </summary>
    public async Task<IsoMessage?> SendAsync(byte[] packed, CancellationToken ct)
    {
        AuthorizeReply reply;
        try
        {
            reply = await cardSwitch.AuthorizeAsync(new AuthorizeRequest { Message = ByteString.CopyFrom(packed) },
                deadline: DateTime.UtcNow.AddMilliseconds(options.Value.SwitchDeadlineMs), cancellationToken: ct);
        }
        catch (RpcException)
        {
            return null;
        }
        // 94: the switch is still deciding the first of these requests; its outcome is asked again later.
        return await ReadAnswerAsync(reply.Message.Memory, ct) is { } answer && answer.GetString(IsoFields.ResponseCode) != ResponseCodes.DuplicateTransmission
            ? answer
            : null;
    }

    /// <summary>The switch's answer if it is readable and its MAC is good; null otherwise.</summary>
    public async Task<IsoMessage?> ReadAnswerAsync(ReadOnlyMemory<byte> packed, CancellationToken ct)
    {
        var unpacked = packager.Unpack(packed.Span);
        if (!unpacked.Ok || unpacked.Message!.GetBytes(IsoFields.Mac) is not { } mac || unpacked.Message.GetString(IsoFields.ResponseCode) is null)
        {
            return null;
        }
        var answer = unpacked.Message;
        try
        {
            await hsm.VerifyMacAsync(new VerifyMacRequest
            {
                KeyId = ZakId,
                Data = ByteString.CopyFrom(IsoMac.Input(answer)),
                Mac = ByteString.CopyFrom(mac.Span),
                Algorithm = MacAlgorithm.Iso9797Alg3,
                Padding = MacPadding.Method1,
            }, ct);
            return answer;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            return null;
        }
    }

    /// <summary>What the switch did with a request: asked after an unknown outcome.</summary>
    public async Task<OutcomeReply> OutcomeAsync(string stan, string transmission, CancellationToken ct) =>
        await cardSwitch.GetOutcomeAsync(new OutcomeRequest { AcquirerId = AcquirerId, Stan = stan, Transmission = transmission },
            deadline: DateTime.UtcNow.AddMilliseconds(options.Value.SwitchDeadlineMs), cancellationToken: ct);
}
