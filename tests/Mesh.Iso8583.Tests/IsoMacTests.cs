using System.Text;
using Mesh.Iso8583.Messages;

namespace Mesh.Iso8583.Tests;

public class IsoMacTests
{
    private static IsoMessage Purchase() => new IsoMessage("0200")
        .Set(IsoFields.Pan, "6222020000000015")
        .Set(IsoFields.ProcessingCode, "000000")
        .Set(IsoFields.AmountTransaction, "000000012345")
        .Set(IsoFields.Stan, "000001")
        .Set(IsoFields.ExpiryDate, "3012")
        .Set(IsoFields.AdditionalData, "CV2123")
        .Set(IsoFields.Currency, "156");

    [Theory]
    [InlineData(IsoFields.AmountTransaction, "000000099999")]
    [InlineData(IsoFields.Currency, "840")]
    [InlineData(IsoFields.ExpiryDate, "2001")]
    [InlineData(IsoFields.AdditionalData, "CV2999")]
    [InlineData(IsoFields.Pan, "6222020000000023")]
    public void AChangedCoveredField_ChangesWhatTheMacCovers(int field, string value)
    {
        var original = IsoMac.Input(Purchase());

        var changed = IsoMac.Input(Purchase().Set(field, value));

        Assert.NotEqual(Encoding.ASCII.GetString(original), Encoding.ASCII.GetString(changed));
    }

    [Fact]
    public void ThePinBlock_IsCoveredAsUppercaseHex_AtItsPlaceInFieldOrder()
    {
        var message = Purchase().SetBinary(IsoFields.PinBlock, Convert.FromHexString("041234feffffffff")).Set(IsoFields.OriginalDataElements, "0200");

        var input = Encoding.ASCII.GetString(IsoMac.Input(message));

        Assert.Equal("0200 6222020000000015 000000 000000012345 000001 3012 CV2123 156 041234FEFFFFFFFF 0200", input);
    }

    [Fact]
    public void AnotherPinBlock_ChangesWhatTheMacCovers()
    {
        var original = IsoMac.Input(Purchase().SetBinary(IsoFields.PinBlock, Convert.FromHexString("041234FEFFFFFFFF")));

        var swapped = IsoMac.Input(Purchase().SetBinary(IsoFields.PinBlock, Convert.FromHexString("046543FEFFFFFFFF")));

        Assert.NotEqual(original, swapped);
    }

    [Theory]
    [InlineData(false, "041234FEFFFFFFFF")]
    [InlineData(true, "041234FEFFFFFFFF")]
    [InlineData(true, "00112233445566778899AABBCCDDEEFF")] // an AES (format 4) block is 16 bytes
    public void TheInputAwaitingThePinBlock_WithTheBlocksHexAtItsOffset_IsTheInputOfTheCompletedMessage(bool fieldsAfterThePinBlock, string pinBlockHex)
    {
        var message = Purchase();
        if (fieldsAfterThePinBlock)
        {
            message.Set(IsoFields.OriginalDataElements, "0200" + "000001" + "1205034622" + "00008010000" + "00000000000");
        }

        var (data, offset) = IsoMac.InputAwaitingPinBlock(message);
        var spliced = Encoding.ASCII.GetString(data).Insert(offset, pinBlockHex);

        Assert.Equal(Encoding.ASCII.GetString(IsoMac.Input(message.SetBinary(IsoFields.PinBlock, Convert.FromHexString(pinBlockHex)))), spliced);
    }

    [Fact]
    public void TheInputAwaitingThePinBlock_OfAMessageThatHasOne_IsRefused() =>
        Assert.Throws<ArgumentException>(() => IsoMac.InputAwaitingPinBlock(Purchase().SetBinary(IsoFields.PinBlock, new byte[8])));

    [Fact]
    public void TheTraceContext_IsNotCovered()
    {
        var original = IsoMac.Input(Purchase());

        var withTrace = IsoMac.Input(Purchase().Set(IsoFields.TraceContext, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));

        Assert.Equal(original, withTrace);
    }
}
