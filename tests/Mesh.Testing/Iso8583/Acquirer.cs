using System.Globalization;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mesh.Contracts.Hsm;
using Mesh.Contracts.Switch;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Testing;

/// <summary>
/// The test's stand-in for the gateway as acquirer 08010000: the PIN is encrypted the way the
/// browser does it (ECDH P-256 + AES-GCM to the transport key), turned into a PIN block under the
/// acquirer ZPK by the Hsm, the 0200 MAC'd under the acquirer ZAK, and sent to the switch.
/// </summary>
public sealed class Acquirer : IDisposable
{
    public const string AcquirerId = "08010000";
    private static readonly IsoPackager Packager = new(IsoDialect.UnionPay1987);
    /// <summary>
    /// The test acquirer shares the gateway's acquirer id, so its STANs keep to 900000-999999, which the gateway's
    /// sequence (from 1) does not reach in a test run: a message of its must never share a key with one of the gateway's.
    /// </summary>
    private const int StanFirst = 900_000;
    private static int _stan = RandomNumberGenerator.GetInt32(0, 100_000);
    private readonly GrpcChannel _hsmChannel;
    private readonly GrpcChannel _switchChannel;
    private readonly Contracts.Hsm.Hsm.HsmClient _hsm;
    private readonly CardSwitch.CardSwitchClient _switch;

    private Acquirer(GrpcChannel hsmChannel, GrpcChannel switchChannel)
    {
        _hsmChannel = hsmChannel;
        _switchChannel = switchChannel;
        _hsm = new Contracts.Hsm.Hsm.HsmClient(hsmChannel);
        _switch = new CardSwitch.CardSwitchClient(switchChannel);
    }

    public CardSwitch.CardSwitchClient Switch => _switch;

    /// <summary>The gateway's credentials: at the Hsm (<c>gateway-hsm-secret</c>) and at the switch, as an acquirer (<c>gateway-switch-secret</c>).</summary>
    public static Acquirer Create(Uri hsmAddress, string hsmSecret, Uri switchAddress, string switchSecret) =>
        new(MeshCallerChannels.Open(hsmAddress, "gateway", hsmSecret), MeshCallerChannels.Open(switchAddress, "gateway", switchSecret));

    /// <summary>A test card of a bank: BIN, eight zeros, the outcome digit, the Luhn digit.</summary>
    public static string TestCard(string bin, int outcomeDigit)
    {
        var body = bin + "00000000" + outcomeDigit.ToString(CultureInfo.InvariantCulture);
        return body + Pan.LuhnCheckDigit(body);
    }

    public async Task<IsoMessage> PurchaseAsync(string pan, string expiry, string pin, long amountMinor)
    {
        var request = await BuildPurchaseAsync(pan, expiry, pin, amountMinor);
        return await SendAsync(request);
    }

    public async Task<IsoMessage> BuildPurchaseAsync(string pan, string expiry, string pin, long amountMinor) =>
        await BuildPurchaseAsync(pan, expiry, await PinBlockAsync(pin, pan), amountMinor, DateTime.UtcNow);

    /// <summary>A signed 0200 with a PIN block already under the acquirer ZPK and a new STAN.</summary>
    public async Task<IsoMessage> BuildPurchaseAsync(string pan, string expiry, byte[] pinBlock, long amountMinor, DateTime now) =>
        await SignAsync(Build("0200", "000000", "00", pan, expiry, amountMinor, now).SetBinary(IsoFields.PinBlock, pinBlock));

    /// <summary>
    /// A signed credit card purchase (0200, no PIN block): field 48 as given (its CVV2 or one-time code), and in field 90
    /// the purchase its bank answered 1A when it is sent again with the code.
    /// </summary>
    public async Task<IsoMessage> BuildCreditPurchaseAsync(string pan, string expiry, long amountMinor, string additionalData, IsoMessage? challenged = null)
    {
        var request = Build("0200", "000000", "00", pan, expiry, amountMinor, DateTime.UtcNow).Set(IsoFields.PosEntryMode, "010")
            .Set(IsoFields.AdditionalData, additionalData);
        return await SignAsync(challenged is null ? request : request.Set(IsoFields.OriginalDataElements, OriginalData(challenged)));
    }

    /// <summary>A signed pre-authorization (0100, processing code 03, condition 06) with the PIN.</summary>
    public async Task<IsoMessage> BuildPreAuthorizationAsync(string pan, string expiry, string pin, long amountMinor) =>
        await SignAsync(Build("0100", "030000", "06", pan, expiry, amountMinor, DateTime.UtcNow).SetBinary(IsoFields.PinBlock, await PinBlockAsync(pin, pan)));

    /// <summary>The completion of an approved pre-authorization: a 0200 with condition 06, its authorization code and field 90.</summary>
    public async Task<IsoMessage> BuildCompletionAsync(IsoMessage preAuthorization, IsoMessage answer, long amountMinor) =>
        await SignAsync(Build("0200", "000000", "06", preAuthorization.GetString(IsoFields.Pan)!, preAuthorization.GetString(IsoFields.ExpiryDate)!,
                amountMinor, DateTime.UtcNow)
            .Set(IsoFields.AuthCode, answer.GetString(IsoFields.AuthCode)!)
            .Set(IsoFields.OriginalDataElements, OriginalData(preAuthorization)));

    /// <summary>A refund advice (0220, processing code 20) of part or all of a purchase, pointing at it in field 90.</summary>
    public async Task<IsoMessage> BuildRefundAsync(IsoMessage purchase, long amountMinor) =>
        await SignAsync(Build("0220", "200000", "00", purchase.GetString(IsoFields.Pan)!, purchase.GetString(IsoFields.ExpiryDate)!, amountMinor, DateTime.UtcNow)
            .Set(IsoFields.OriginalDataElements, OriginalData(purchase)));

    /// <summary>Field 90: the original's MTI, STAN, transmission time, acquirer and forwarder (none: zeros).</summary>
    public static string OriginalData(IsoMessage original) => string.Concat(original.Mti, original.GetString(IsoFields.Stan),
        original.GetString(IsoFields.TransmissionDateTime), original.GetString(IsoFields.AcquirerId)!.PadLeft(11, '0'), new string('0', 11));

    private static IsoMessage Build(string mti, string processingCode, string conditionCode, string pan, string expiry, long amountMinor, DateTime now)
    {
        var stan = (StanFirst + Interlocked.Increment(ref _stan) % 100_000).ToString("D6", CultureInfo.InvariantCulture);
        return new IsoMessage(mti)
            .Set(IsoFields.Pan, pan)
            .Set(IsoFields.ProcessingCode, processingCode)
            .Set(IsoFields.AmountTransaction, amountMinor.ToString("D12", CultureInfo.InvariantCulture))
            .Set(IsoFields.TransmissionDateTime, now.ToString("MMddHHmmss", CultureInfo.InvariantCulture))
            .Set(IsoFields.Stan, stan)
            .Set(IsoFields.ExpiryDate, expiry)
            .Set(IsoFields.MerchantType, "5411")
            .Set(IsoFields.PosEntryMode, "012")
            .Set(IsoFields.PosConditionCode, conditionCode)
            .Set(IsoFields.AcquirerId, AcquirerId)
            .Set(IsoFields.Rrn, now.ToString("yyMMdd", CultureInfo.InvariantCulture) + stan)
            .Set(IsoFields.TerminalId, "NETPAY01")
            .Set(IsoFields.MerchantId, "808080000000001")
            .Set(IsoFields.Currency, "156");
    }

    public async Task<IsoMessage> SendAsync(IsoMessage request)
    {
        var reply = await _switch.AuthorizeAsync(new AuthorizeRequest { Message = ByteString.CopyFrom(Packager.Pack(request)) },
            deadline: DateTime.UtcNow.AddSeconds(30));
        var answer = Packager.Unpack(reply.Message.Span);
        return answer.Ok ? answer.Message! : throw new InvalidOperationException($"the switch answered with unreadable bytes: {answer.Error}");
    }

    public async Task<IsoMessage> SignAsync(IsoMessage message)
    {
        message.Remove(IsoFields.Mac);
        var mac = await _hsm.GenerateMacAsync(new GenerateMacRequest
        {
            KeyId = "gateway.zak",
            Data = ByteString.CopyFrom(IsoMac.Input(message)),
            Algorithm = MacAlgorithm.Iso9797Alg3,
            Padding = MacPadding.Method1,
        });
        return message.SetBinary(IsoFields.Mac, mac.Mac.Span);
    }

    public async Task<bool> MacIsValidAsync(IsoMessage answer)
    {
        try
        {
            await _hsm.VerifyMacAsync(new VerifyMacRequest
            {
                KeyId = "gateway.zak",
                Data = ByteString.CopyFrom(IsoMac.Input(answer)),
                Mac = ByteString.CopyFrom(answer.GetBytes(IsoFields.Mac)!.Value.Span),
                Algorithm = MacAlgorithm.Iso9797Alg3,
                Padding = MacPadding.Method1,
            });
            return true;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    /// <summary>As the payment page does it: ECDH with the transport key, AES-GCM over "nonce|PIN".</summary>
    public async Task<byte[]> PinBlockAsync(string pin, string pan)
    {
        var transport = await _hsm.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = "gateway.pin-transport-ec" });
        var nonce = Guid.NewGuid().ToString("N");
        var sealedPin = PagePinSealing.Seal(transport.SubjectPublicKeyInfo.Span, nonce, pin);
        var reply = await _hsm.TranslatePinFromBrowserAsync(new TranslatePinFromBrowserRequest
        {
            TransportKeyId = "gateway.pin-transport-ec",
            Scheme = BrowserPinScheme.EcdhP256AesGcm,
            Ciphertext = ByteString.CopyFrom(sealedPin.Ciphertext),
            EphemeralPublicKey = ByteString.CopyFrom(sealedPin.EphemeralPublicKey),
            Iv = ByteString.CopyFrom(sealedPin.Iv),
            SessionNonce = nonce,
            DestinationZpkId = "gateway.zpk",
            DestinationFormat = PinBlockFormat.Iso3,
            Pan = pan,
        });
        return reply.PinBlock.ToByteArray();
    }

    public void Dispose()
    {
        _hsmChannel.Dispose();
        _switchChannel.Dispose();
    }
}
