using System.Text;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;

namespace Mesh.Hsm.Grpc;

/// <summary>A batch as far as it has run: all its commands, and the results of those before the one running.</summary>
public sealed record BatchSoFar(IReadOnlyList<HsmCommand> Commands, IReadOnlyList<HsmResult> Results)
{
    /// <summary>The place in the batch of the command running now.</summary>
    public int Position => Results.Count;
}

/// <summary>
/// A MAC over a PIN block made in the same batch (<see cref="GenerateMacRequest.PinBlockFromBatch"/>):
/// the uppercase hex of the block an earlier TranslatePin or TranslatePinFromBrowser answered goes
/// into the data at the splice's offset. Anything else is refused (15) before a MAC is made.
/// </summary>
public static class PinBlockSplicing
{
    /// <summary>The request as it would have been sent with the PIN block in its data, and no splice.</summary>
    public static GenerateMacRequest Spliced(GenerateMacRequest request, BatchSoFar batch)
    {
        var splice = request.PinBlockFromBatch;
        if (splice.CommandIndex >= batch.Position)
        {
            throw Refused($"it names command {splice.CommandIndex} of the batch, which does not come before this GenerateMac (command {batch.Position})");
        }
        var index = (int)splice.CommandIndex;
        var source = batch.Commands[index].CommandCase;
        if (source is not (HsmCommand.CommandOneofCase.TranslatePin or HsmCommand.CommandOneofCase.TranslatePinFromBrowser))
        {
            throw Refused($"it names command {index} of the batch ({source}), which is not a TranslatePin or TranslatePinFromBrowser");
        }
        var pinBlock = batch.Results[index] switch
        {
            { ResultCase: HsmResult.ResultOneofCase.TranslatePin } result => result.TranslatePin.PinBlock,
            { ResultCase: HsmResult.ResultOneofCase.TranslatePinFromBrowser } result => result.TranslatePinFromBrowser.PinBlock,
            _ => throw Refused($"command {index} of the batch was refused: there is no PIN block to MAC"),
        };
        var data = request.Data.Span;
        if (splice.Offset > data.Length)
        {
            throw Refused($"its offset {splice.Offset} is past the end of the data ({data.Length} bytes)");
        }
        var offset = (int)splice.Offset;
        var hex = Convert.ToHexString(pinBlock.Span);
        var spliced = new byte[data.Length + hex.Length];
        data[..offset].CopyTo(spliced);
        Encoding.ASCII.GetBytes(hex, spliced.AsSpan(offset));
        data[offset..].CopyTo(spliced.AsSpan(offset + hex.Length));
        var complete = request.Clone();
        complete.Data = ByteString.CopyFrom(spliced);
        complete.PinBlockFromBatch = null;
        return complete;
    }

    /// <summary>A splice where there is no batch: refused, as the request names no command to take a PIN block from.</summary>
    public static HsmException OutsideABatch() => new(HsmErrorCode.InvalidInput, "pin_block_from_batch: a PIN block is spliced into a MAC only inside an HsmBatch");

    private static HsmException Refused(string why) => new(HsmErrorCode.InvalidInput, $"pin_block_from_batch: {why}");
}
