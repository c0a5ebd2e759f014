using System.Text;

namespace Mesh.Iso8583.Messages;

/// <summary>
/// What a MAC covers, in the UnionPay style: the MTI and fields 2, 3, 4, 7, 11, 14, 18, 25, 28,
/// 32, 33, 38, 39, 41, 42, 48, 49, 90, 102 and 103 where present, separated by spaces: the card,
/// amount and currency, expiry, the CVV2 in field 48, the parties and the original of a reversal.
/// The PIN block (field 52) is not covered: it changes at the switch, and its translation and the
/// forward's MAC are made in one Hsm round trip. The MAC itself travels in field 128 (ISO 9797-1
/// algorithm 3, computed by the Hsm under the link's ZAK).
/// </summary>
public static class IsoMac
{
    private static readonly int[] Covered = [2, 3, 4, 7, 11, 14, 18, 25, 28, 32, 33, 38, 39, 41, 42, 48, 49, 90, 102, 103];

    public static byte[] Input(IsoMessage message)
    {
        var text = new StringBuilder(message.Mti, 256);
        foreach (var field in Covered)
        {
            if (message.GetString(field) is { } value)
            {
                text.Append(' ').Append(value);
            }
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
