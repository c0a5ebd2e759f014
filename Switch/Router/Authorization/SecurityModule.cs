using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Iso8583.Messages;

namespace Mesh.Switch.Authorization;

/// <summary>
/// The switch's use of the Hsm: MACs on every message, PIN blocks from one zone to the next. On a
/// request's way in and on its answer's way back, what the switch asks of the Hsm goes in one
/// round trip (<see cref="HsmBatch"/>): two per authorization, where it took five.
/// </summary>
public sealed class SecurityModule(HsmSession hsm)
{
    /// <summary>A request on its way to an issuer: its PIN block from the acquirer's zone to the issuer's, and the issuer link's ZAK.</summary>
    public sealed record Forwarding(IsoMessage Message, string FromZpkId, string ToZpkId, string ZakId, string Pan);

    /// <summary>What the Hsm said of a request on its way in.</summary>
    public readonly record struct Inbound(bool MacValid, bool PinRefused);

    public async Task<bool> MacIsValidAsync(string zakId, IsoMessage message, CancellationToken ct)
    {
        if (message.GetBytes(IsoFields.Mac) is not { } mac)
        {
            return false;
        }
        try
        {
            await hsm.VerifyMacAsync(VerifyMac(zakId, message, mac).VerifyMac, ct);
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.InvalidArgument)
        {
            return false;
        }
    }

    /// <summary>
    /// The acquirer's MAC (over the PIN block too) checked and, for a request routed to an issuer,
    /// its PIN block translated into the issuer's zone and the forwarded request MAC'd under the
    /// link's ZAK, the translated block included (the Hsm splices it into the MAC's input), in one
    /// round trip. The forwarded message is complete when the MAC is good and the PIN was not refused.
    /// </summary>
    public async Task<Inbound> CheckAndForwardAsync(string acquirerZakId, IsoMessage request, Forwarding? forwarding, CancellationToken ct)
    {
        if (request.GetBytes(IsoFields.Mac) is not { } mac)
        {
            return new Inbound(MacValid: false, PinRefused: false);
        }
        var commands = new List<HsmCommand>(3) { VerifyMac(acquirerZakId, request, mac) };
        var pinBlock = request.GetBytes(IsoFields.PinBlock);
        if (forwarding is not null)
        {
            if (pinBlock is { } block)
            {
                commands.Add(new HsmCommand
                {
                    TranslatePin = new TranslatePinRequest
                    {
                        SourceZpkId = forwarding.FromZpkId,
                        DestinationZpkId = forwarding.ToZpkId,
                        PinBlock = ByteString.CopyFrom(block.Span),
                        // The acquirer's block is ISO format 3 (random fill: the Hsm makes no other from a browser's PIN); the banks take format 0.
                        SourceFormat = PinBlockFormat.Iso3,
                        DestinationFormat = PinBlockFormat.Iso0,
                        Pan = forwarding.Pan,
                    },
                });
                commands.Add(GenerateMacOverTranslatedPinBlock(forwarding.ZakId, forwarding.Message.Remove(IsoFields.Mac), translationIndex: commands.Count - 1));
            }
            else
            {
                commands.Add(GenerateMac(forwarding.ZakId, forwarding.Message.Remove(IsoFields.Mac)));
            }
        }
        var results = await hsm.ExecuteBatchAsync(commands, ct);
        if (!HsmSession.Accepted(results[0]))
        {
            return new Inbound(MacValid: false, PinRefused: false);
        }
        if (forwarding is null)
        {
            return new Inbound(MacValid: true, PinRefused: false);
        }
        if (pinBlock is not null)
        {
            if (results[1].Refusal is { StatusCode: (int)StatusCode.InvalidArgument })
            {
                return new Inbound(MacValid: true, PinRefused: true);
            }
            forwarding.Message.SetBinary(IsoFields.PinBlock, HsmSession.Checked(results[1]).TranslatePin.PinBlock.Span);
        }
        forwarding.Message.SetBinary(IsoFields.Mac, HsmSession.Checked(results[^1]).GenerateMac.Mac.Span);
        return new Inbound(MacValid: true, PinRefused: false);
    }

    /// <summary>
    /// The issuer's answer checked and the acquirer's answer MAC'd, in one round trip. True when
    /// the issuer's MAC is good; the acquirer's answer is then signed. When it is not, that answer
    /// is left unsigned: it will not be the one sent.
    /// </summary>
    public async Task<bool> CheckAnswerAndSignAsync(string issuerZakId, IsoMessage issuerAnswer, string acquirerZakId, IsoMessage answer,
        CancellationToken ct)
    {
        if (issuerAnswer.GetBytes(IsoFields.Mac) is not { } mac)
        {
            return false;
        }
        var results = await hsm.ExecuteBatchAsync([VerifyMac(issuerZakId, issuerAnswer, mac), GenerateMac(acquirerZakId, answer.Remove(IsoFields.Mac))], ct);
        if (!HsmSession.Accepted(results[0]))
        {
            return false;
        }
        answer.SetBinary(IsoFields.Mac, HsmSession.Checked(results[1]).GenerateMac.Mac.Span);
        return true;
    }

    public async Task<IsoMessage> SignAsync(string zakId, IsoMessage message, CancellationToken ct)
    {
        var reply = await hsm.GenerateMacAsync(GenerateMac(zakId, message.Remove(IsoFields.Mac)).GenerateMac, ct);
        return message.SetBinary(IsoFields.Mac, reply.Mac.Span);
    }

    private static HsmCommand VerifyMac(string zakId, IsoMessage message, ReadOnlyMemory<byte> mac) => new()
    {
        VerifyMac = new VerifyMacRequest
        {
            KeyId = zakId,
            Data = ByteString.CopyFrom(IsoMac.Input(message)),
            Mac = ByteString.CopyFrom(mac.Span),
            Algorithm = MacAlgorithm.Iso9797Alg3,
            Padding = MacPadding.Method1,
        },
    };

    private static HsmCommand GenerateMac(string zakId, IsoMessage message) => GenerateMac(zakId, IsoMac.Input(message));

    /// <summary>The MAC of a message whose PIN block is the one the batch's command at <paramref name="translationIndex"/> makes.</summary>
    private static HsmCommand GenerateMacOverTranslatedPinBlock(string zakId, IsoMessage message, int translationIndex)
    {
        var (input, pinBlockOffset) = IsoMac.InputAwaitingPinBlock(message);
        var command = GenerateMac(zakId, input);
        command.GenerateMac.PinBlockFromBatch = new PinBlockSplice { CommandIndex = (uint)translationIndex, Offset = (uint)pinBlockOffset };
        return command;
    }

    private static HsmCommand GenerateMac(string zakId, byte[] input) => new()
    {
        GenerateMac = new GenerateMacRequest
        {
            KeyId = zakId,
            Data = ByteString.CopyFrom(input),
            Algorithm = MacAlgorithm.Iso9797Alg3,
            Padding = MacPadding.Method1,
        },
    };
}
