using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Iso8583.Messages;

namespace Mesh.Switch.Authorization;

/// <summary>The switch's use of the Hsm: MACs on every message, PIN blocks from one zone to the next.</summary>
public sealed class SecurityModule(HsmSession hsm)
{
    public async Task<bool> MacIsValidAsync(string zakId, IsoMessage message, CancellationToken ct)
    {
        if (message.GetBytes(IsoFields.Mac) is not { } mac)
        {
            return false;
        }
        try
        {
            await hsm.VerifyMacAsync(new VerifyMacRequest
            {
                KeyId = zakId,
                Data = ByteString.CopyFrom(IsoMac.Input(message)),
                Mac = ByteString.CopyFrom(mac.Span),
                Algorithm = MacAlgorithm.Iso9797Alg3,
                Padding = MacPadding.Method1,
            }, ct);
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.InvalidArgument)
        {
            return false;
        }
    }

    public async Task<IsoMessage> SignAsync(string zakId, IsoMessage message, CancellationToken ct)
    {
        message.Remove(IsoFields.Mac);
        var reply = await hsm.GenerateMacAsync(new GenerateMacRequest
        {
            KeyId = zakId,
            Data = ByteString.CopyFrom(IsoMac.Input(message)),
            Algorithm = MacAlgorithm.Iso9797Alg3,
            Padding = MacPadding.Method1,
        }, ct);
        return message.SetBinary(IsoFields.Mac, reply.Mac.Span);
    }

    /// <summary>The PIN block from the acquirer's ZPK to the issuer's, format 0 on both sides; null when the Hsm refuses it.</summary>
    public async Task<byte[]?> TranslatePinAsync(string fromZpkId, string toZpkId, ReadOnlyMemory<byte> block, string pan, CancellationToken ct)
    {
        try
        {
            var reply = await hsm.TranslatePinAsync(new TranslatePinRequest
            {
                SourceZpkId = fromZpkId,
                DestinationZpkId = toZpkId,
                PinBlock = ByteString.CopyFrom(block.Span),
                SourceFormat = PinBlockFormat.Iso0,
                DestinationFormat = PinBlockFormat.Iso0,
                Pan = pan,
            }, ct);
            return reply.PinBlock.ToByteArray();
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            return null;
        }
    }
}
