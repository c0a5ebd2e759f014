using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Iso8583.Channel;
using Mesh.Iso8583.Messages;
using Mesh.IssuerSim.Cards;
using Mesh.IssuerSim.Faults;
using Mesh.IssuerSim.KeyExchange;
using Mesh.IssuerSim.Options;
using Mesh.IssuerSim.Verification;
using Microsoft.Extensions.Options;

namespace Mesh.IssuerSim.Processing;

/// <summary>
/// What the bank does with a message from the switch. Each request is one server span, joined
/// to the payment's trace through the context the switch put in field 124.
/// </summary>
public sealed class IssuerProcessor(
    IOptions<BankOptions> bank,
    HsmSession hsm,
    Authorizer authorizer,
    Reverser reverser,
    CardIssuance cards,
    OneTimeCodes codes,
    FaultKnobs faults,
    ZoneKeyChangeReceiver keyChanges,
    TimeProvider time,
    ILogger<IssuerProcessor> logger)
{
    /// <summary>Field 25 of a pre-authorization and of its completion.</summary>
    public const string PreAuthorizationCondition = "06";

    private static readonly int[] EchoedFields =
        [IsoFields.ProcessingCode, IsoFields.AmountTransaction, IsoFields.TransmissionDateTime, IsoFields.Stan, IsoFields.AcquirerId,
         IsoFields.ForwardingId, IsoFields.Rrn, IsoFields.TerminalId, IsoFields.MerchantId, IsoFields.Currency];

    public async ValueTask<IsoMessage?> HandleAsync(IsoMessage request, CancellationToken ct)
    {
        IsoTraceContext.TryExtract(request, out var parent);
        using var activity = IssuerTelemetry.Source.StartActivity($"iso8583 {request.Mti} ← switch", ActivityKind.Server, parent);
        activity?.SetTag("iso8583.mti", request.Mti);
        activity?.SetTag("iso8583.stan", request.GetString(IsoFields.Stan));
        activity?.SetTag("iso8583.rrn", request.GetString(IsoFields.Rrn));
        activity?.SetTag("mesh.bank_id", bank.Value.Id);

        var settings = faults.Get();
        if (settings.LatencyMs > 0)
        {
            await faults.HoldAsync(settings.LatencyMs, time, ct);
        }
        if (settings.CloseConnections && request.Mti != "0800")
        {
            throw new IsoCloseConnectionException("fault knob: close the connection");
        }
        var answer = request.Mti switch
        {
            "0800" => await NetworkManagementAsync(request, ct),
            _ when settings.SystemMalfunction => await SignedAsync(Answer(request, ResponseCodes.SystemMalfunction), ct),
            "0420" or "0421" => await ReversalAsync(request, ct),
            "0200" or "0100" or "0220" or "0221" => await FinancialAsync(request, ct),
            _ => Answer(request, ResponseCodes.InvalidTransaction),
        };
        activity?.SetTag("iso8583.response_code", answer.GetString(IsoFields.ResponseCode));
        if (settings.DropAnswers && request.Mti != "0800")
        {
            logger.LogInformation("Fault knob: dropping the answer to {Request}", request);
            return null;
        }
        return answer;
    }

    /// <summary>What kind of financial message this is, from its MTI, processing code and condition code; null for one the bank does not take.</summary>
    private static FinancialKind? KindOf(IsoMessage request)
    {
        var processing = request.GetString(IsoFields.ProcessingCode) ?? "000000";
        return request.Mti switch
        {
            "0200" when request.GetString(IsoFields.PosConditionCode) == PreAuthorizationCondition && processing.StartsWith("00", StringComparison.Ordinal) =>
                FinancialKind.Completion,
            "0200" when processing.StartsWith("00", StringComparison.Ordinal) => FinancialKind.Purchase,
            "0100" when processing.StartsWith("03", StringComparison.Ordinal) => FinancialKind.PreAuthorization,
            "0220" or "0221" when processing.StartsWith("20", StringComparison.Ordinal) => FinancialKind.Refund,
            _ => null,
        };
    }

    private async Task<IsoMessage> FinancialAsync(IsoMessage request, CancellationToken ct)
    {
        if (KindOf(request) is not { } kind)
        {
            return await SignedAsync(Answer(request, ResponseCodes.InvalidTransaction), ct);
        }
        var key = KeyOf(request);
        var amountText = request.GetString(IsoFields.AmountTransaction);
        if (key is null || amountText is null || !long.TryParse(amountText, NumberStyles.None, CultureInfo.InvariantCulture, out var amountMinor)
            || !request.Has(IsoFields.Mac))
        {
            return Answer(request, ResponseCodes.FormatError);
        }
        // A purchase's card is looked up by its keyed hash: made with the MAC check, in one Hsm round trip.
        var authorizesCard = kind is FinancialKind.Purchase or FinancialKind.PreAuthorization;
        var (macValid, panHash) = await CheckMacAndHashPanAsync(request, authorizesCard ? request.GetString(IsoFields.Pan) : null, ct);
        if (!macValid)
        {
            return await SignedAsync(Answer(request, "A0"), ct);
        }
        FinancialRequest financial;
        if (authorizesCard)
        {
            var pan = request.GetString(IsoFields.Pan);
            var expiry = request.GetString(IsoFields.ExpiryDate);
            var additional = AdditionalData.Parse(request.GetString(IsoFields.AdditionalData));
            if (pan is null || panHash is null || expiry is null || additional is null)
            {
                return await SignedAsync(Answer(request, ResponseCodes.FormatError), ct);
            }
            var card = await authorizer.CardCheckDataAsync(panHash, ct);
            var checkedCard = card is { Credit: true }
                ? await CreditCardAsync(request, kind, key.Value, amountMinor, pan, panHash, expiry, additional, ct)
                : await DebitCardAsync(request, kind, key.Value, amountMinor, pan, panHash, expiry, additional, card, ct);
            if (checkedCard is not { } cardRequest)
            {
                return await SignedAsync(Answer(request, ResponseCodes.FormatError), ct);
            }
            financial = cardRequest;
        }
        else
        {
            if (OriginalOf(request) is not { } original)
            {
                return await SignedAsync(Answer(request, ResponseCodes.FormatError), ct);
            }
            financial = new FinancialRequest(kind, key.Value, amountMinor, Original: original);
        }
        var decision = await authorizer.DecideAsync(financial, ct);
        if (decision.ResponseCode == ResponseCodes.AuthenticationRequired)
        {
            await codes.IssueAsync(key.Value, financial.PanHash!, Pan.Mask(request.GetString(IsoFields.Pan)!), amountMinor, ct);
        }
        var answer = Answer(request, decision.ResponseCode);
        if (decision.AuthCode is not null)
        {
            answer.Set(IsoFields.AuthCode, decision.AuthCode);
        }
        return await SignedAsync(answer, ct);
    }

    /// <summary>
    /// A debit card's purchase: its PIN block verified in the Hsm, and a CVV2 in field 48 checked when one is sent.
    /// Null when it is malformed (no PIN block, a CVV2 not of three digits).
    /// </summary>
    private async Task<FinancialRequest?> DebitCardAsync(IsoMessage request, FinancialKind kind, MessageKey key, long amountMinor, string pan,
        byte[] panHash, string expiry, IReadOnlyDictionary<string, string> additional, CardCheckData? card, CancellationToken ct)
    {
        var cvv2 = additional.GetValueOrDefault(AdditionalData.Cvv2);
        if (request.GetBytes(IsoFields.PinBlock) is not { } pinBlock || (cvv2 is not null && !IsCvv2(cvv2)))
        {
            return null;
        }
        // No such card: the answer is 14, not a PIN error.
        var pinVerified = card is null || await PinIsRightAsync(card, pan, pinBlock, ct);
        var cvvRejected = cvv2 is not null && !await cards.Cvv2IsRightAsync(pan, expiry, cvv2, ct);
        return new FinancialRequest(kind, key, amountMinor, panHash, expiry, pinVerified, CvvRejected: cvvRejected);
    }

    /// <summary>
    /// A credit card's purchase, without a PIN: either its CVV2 (checked in the Hsm under the bank's CVK; none at
    /// all is a CVV2 failure), or, sent again after a 1A, the one-time code with the challenged purchase in field
    /// 90. A repeat of a message already decided checks nothing again (it gets its first answer). Null when malformed.
    /// </summary>
    private async Task<FinancialRequest?> CreditCardAsync(IsoMessage request, FinancialKind kind, MessageKey key, long amountMinor, string pan,
        byte[] panHash, string expiry, IReadOnlyDictionary<string, string> additional, CancellationToken ct)
    {
        var cvv2 = additional.GetValueOrDefault(AdditionalData.Cvv2);
        var code = additional.GetValueOrDefault(AdditionalData.OneTimeCode);
        if ((cvv2 is not null && !IsCvv2(cvv2)) || (code is not null && (!OneTimeCodes.IsWellFormed(code) || OriginalOf(request) is null)))
        {
            return null;
        }
        if (await authorizer.HasDecidedAsync(key, ct))
        {
            return new FinancialRequest(kind, key, amountMinor, panHash, expiry, PinVerified: true);
        }
        if (code is not null)
        {
            var check = await codes.CheckAsync(OriginalOf(request)!.Value, panHash, amountMinor, code, ct);
            return new FinancialRequest(kind, key, amountMinor, panHash, expiry, PinVerified: true, OneTimeCode: check);
        }
        var cvvRejected = cvv2 is null || !await cards.Cvv2IsRightAsync(pan, expiry, cvv2, ct);
        return new FinancialRequest(kind, key, amountMinor, panHash, expiry, PinVerified: true, CvvRejected: cvvRejected);
    }

    private static bool IsCvv2(string cvv2) => cvv2.Length == 3 && cvv2.All(char.IsAsciiDigit);

    private async Task<IsoMessage> ReversalAsync(IsoMessage request, CancellationToken ct)
    {
        var original = OriginalOf(request);
        if (original is null || !request.Has(IsoFields.Mac))
        {
            return Answer(request, ResponseCodes.FormatError);
        }
        if (!await MacIsValidAsync(request, ct))
        {
            return await SignedAsync(Answer(request, "A0"), ct);
        }
        await reverser.ReverseAsync(original.Value, ct);
        return await SignedAsync(Answer(request, ResponseCodes.Approved), ct);
    }

    private async Task<bool> PinIsRightAsync(CardCheckData stored, string pan, ReadOnlyMemory<byte> pinBlock, CancellationToken ct)
    {
        try
        {
            await hsm.VerifyPinAsync(new VerifyPinRequest
            {
                ZpkId = bank.Value.ZpkId,
                PinBlock = ByteString.CopyFrom(pinBlock.Span),
                Format = PinBlockFormat.Iso0,
                Pan = pan,
                Verification = new PinVerificationData { Method = PinVerificationMethod.VisaPvv, PvkId = bank.Value.PvkId, Pvki = stored.Pvki, Pvv = stored.Pvv, PinLength = stored.PinLength },
            }, ct);
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.InvalidArgument)
        {
            return false;
        }
    }

    private async Task<bool> MacIsValidAsync(IsoMessage message, CancellationToken ct) => (await CheckMacAndHashPanAsync(message, null, ct)).MacValid;

    /// <summary>The switch's MAC checked and, when <paramref name="pan"/> is given, its keyed hash made, in one Hsm round trip.</summary>
    private async Task<(bool MacValid, byte[]? PanHash)> CheckMacAndHashPanAsync(IsoMessage message, string? pan, CancellationToken ct)
    {
        var check = new HsmCommand
        {
            VerifyMac = new VerifyMacRequest
            {
                KeyId = bank.Value.ZakId,
                Data = ByteString.CopyFrom(IsoMac.Input(message)),
                Mac = ByteString.CopyFrom(message.GetBytes(IsoFields.Mac)!.Value.Span),
                Algorithm = MacAlgorithm.Iso9797Alg3,
                Padding = MacPadding.Method1,
            },
        };
        var results = await hsm.ExecuteBatchAsync(pan is null ? [check] : [check, new HsmCommand { LookupHash = cards.PanHashRequest(pan) }], ct);
        if (!HsmSession.Accepted(results[0]))
        {
            logger.LogWarning("MAC of {Message} from the switch does not verify", message);
            return (false, null);
        }
        return (true, pan is null ? null : HsmSession.Checked(results[1]).LookupHash.LookupHash.ToByteArray());
    }

    private async Task<IsoMessage> SignedAsync(IsoMessage answer, CancellationToken ct)
    {
        var mac = await hsm.GenerateMacAsync(new GenerateMacRequest
        {
            KeyId = bank.Value.ZakId,
            Data = ByteString.CopyFrom(IsoMac.Input(answer)),
            Algorithm = MacAlgorithm.Iso9797Alg3,
            Padding = MacPadding.Method1,
        }, ct);
        return answer.SetBinary(IsoFields.Mac, mac.Mac.Span);
    }

    private static MessageKey? KeyOf(IsoMessage message) =>
        message.GetString(IsoFields.AcquirerId) is { } acquirer && message.GetString(IsoFields.Stan) is { } stan
            && message.GetString(IsoFields.TransmissionDateTime) is { } transmission
            ? new MessageKey(acquirer.PadLeft(11, '0'), stan, transmission)
            : null;

    /// <summary>Field 90: original MTI (4), STAN (6), transmission time (10), acquirer (11), forwarder (11).</summary>
    private static MessageKey? OriginalOf(IsoMessage reversal)
    {
        var original = reversal.GetString(IsoFields.OriginalDataElements);
        if (original is not { Length: 42 })
        {
            return null;
        }
        return new MessageKey(original[20..31], original[4..10], original[10..20]);
    }

    private async Task<IsoMessage> NetworkManagementAsync(IsoMessage request, CancellationToken ct)
    {
        var code = request.GetString(IsoFields.NetworkManagementCode);
        switch (code)
        {
            case NetworkManagementCodes.SignOn or NetworkManagementCodes.SignOff or NetworkManagementCodes.Echo:
                return Answer(request, ResponseCodes.Approved).Set(IsoFields.NetworkManagementCode, code);
            case NetworkManagementCodes.KeyChange:
                var (responseCode, answered) = await keyChanges.HandleAsync(KeyChangeData.Parse(request.GetString(IsoFields.AdditionalData)), ct);
                var answer = Answer(request, responseCode).Set(IsoFields.NetworkManagementCode, code);
                return answered is null ? answer : answer.Set(IsoFields.AdditionalData, answered);
            default:
                return Answer(request, ResponseCodes.InvalidTransaction);
        }
    }

    /// <summary>The response MTI, echoing the fields the switch matches and reconciles on, with the given field 39.</summary>
    private static IsoMessage Answer(IsoMessage request, string responseCode) => IsoMessage.AnswerTo(request, responseCode, EchoedFields);
}
