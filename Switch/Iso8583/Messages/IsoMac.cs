using System.Text;

namespace Mesh.Iso8583.Messages;

/// <summary>
/// What a MAC covers, in the UnionPay style: the MTI and fields 2, 3, 4, 7, 11, 14, 18, 25, 28,
/// 32, 33, 38, 39, 41, 42, 48, 49, 52, 90, 102 and 103 where present, separated by spaces: the
/// card, amount and currency, expiry, the CVV2 in field 48, the PIN block (field 52, as uppercase
/// hex), the parties and the original of a reversal. A PIN block cannot be moved to another
/// message on the link. The MAC itself travels in field 128 (ISO 9797-1 algorithm 3, computed by
/// the Hsm under the link's ZAK).
/// </summary>
/// <remarks>
/// A sender whose PIN block is made in the same Hsm round trip as the MAC (the gateway's from the
/// browser's PIN, the switch's translated one) sends <see cref="InputAwaitingPinBlock"/> and has the
/// Hsm splice that block in (<c>GenerateMacRequest.pin_block_from_batch</c>).
/// </remarks>
public static class IsoMac
{
    private static readonly int[] Covered = [2, 3, 4, 7, 11, 14, 18, 25, 28, 32, 33, 38, 39, 41, 42, 48, 49, IsoFields.PinBlock, 90, 102, 103];

    public static byte[] Input(IsoMessage message)
    {
        var text = new StringBuilder(message.Mti, 256);
        foreach (var field in Covered)
        {
            Append(text, message, field);
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>
    /// The input of a message whose PIN block is still to come, and where that block's uppercase
    /// hex goes in it: with the hex inserted at <c>PinBlockOffset</c>, it is <see cref="Input"/> of
    /// the message with its PIN block.
    /// </summary>
    public static (byte[] Data, int PinBlockOffset) InputAwaitingPinBlock(IsoMessage message)
    {
        if (message.Has(IsoFields.PinBlock))
        {
            throw new ArgumentException("The message has its PIN block already: its MAC input is IsoMac.Input", nameof(message));
        }
        var text = new StringBuilder(message.Mti, 256);
        var pinBlockOffset = 0;
        foreach (var field in Covered)
        {
            if (field == IsoFields.PinBlock)
            {
                pinBlockOffset = text.Append(' ').Length;
            }
            else
            {
                Append(text, message, field);
            }
        }
        return (Encoding.ASCII.GetBytes(text.ToString()), pinBlockOffset);
    }

    private static void Append(StringBuilder text, IsoMessage message, int field)
    {
        if (field == IsoFields.PinBlock)
        {
            if (message.GetBytes(field) is { } pinBlock)
            {
                text.Append(' ').Append(Convert.ToHexString(pinBlock.Span));
            }
        }
        else if (message.GetString(field) is { } value)
        {
            text.Append(' ').Append(value);
        }
    }
}
