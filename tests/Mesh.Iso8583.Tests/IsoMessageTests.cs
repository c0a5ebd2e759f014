using Mesh.Iso8583.Messages;

namespace Mesh.Iso8583.Tests;

public sealed class IsoMessageTests
{
    [Fact]
    public void AbsentBinaryField_IsNull_NotEmpty()
    {
        var refund = new IsoMessage("0220").Set(IsoFields.Pan, "6222020000000001");

        Assert.Null(refund.GetBytes(IsoFields.PinBlock));
        Assert.False(refund.Has(IsoFields.PinBlock));
    }

    [Fact]
    public void PresentBinaryField_ReadsBackItsBytes()
    {
        var purchase = new IsoMessage("0200").SetBinary(IsoFields.PinBlock, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, purchase.GetBytes(IsoFields.PinBlock)!.Value.ToArray());
    }
}
