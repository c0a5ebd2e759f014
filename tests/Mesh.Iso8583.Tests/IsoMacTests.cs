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
    public void TheTraceContext_IsNotCovered()
    {
        var original = IsoMac.Input(Purchase());

        var withTrace = IsoMac.Input(Purchase().Set(IsoFields.TraceContext, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));

        Assert.Equal(original, withTrace);
    }
}
