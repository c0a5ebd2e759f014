using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Iso8583.Tests;

/// <summary>Field 48's tagged elements: what is built reads back, and what is not well formed is refused whole.</summary>
public sealed class AdditionalDataTests
{
    [Fact]
    public void BuiltElements_ReadBack_AndSurviveThePackager()
    {
        var text = AdditionalData.Build((AdditionalData.Cvv2, "123"), (AdditionalData.OneTimeCode, "004321"));
        var packager = new IsoPackager(IsoDialect.UnionPay1987);
        var unpacked = packager.Unpack(packager.Pack(new IsoMessage("0200").Set(IsoFields.Stan, "000001").Set(IsoFields.AdditionalData, text)));

        Assert.Equal("CV203123OTP06004321", text);
        var elements = AdditionalData.Parse(unpacked.Message!.GetString(IsoFields.AdditionalData));
        Assert.Equal("123", elements![AdditionalData.Cvv2]);
        Assert.Equal("004321", elements[AdditionalData.OneTimeCode]);
    }

    [Theory]
    [InlineData("CV2123")]        // no length
    [InlineData("CV204123")]      // shorter than its length
    [InlineData("CV2031")]
    [InlineData("CV2")]
    [InlineData("CV203123CV203456")] // a tag twice
    [InlineData("CV2x3123")]
    public void MalformedElements_AreRefusedWhole(string text) => Assert.Null(AdditionalData.Parse(text));

    [Fact]
    public void NoField_IsNoElements() => Assert.Empty(AdditionalData.Parse(null)!);

    [Fact]
    public void TheMessagesText_NamesFieldsOnly_NeverTheCardsSecrets()
    {
        var message = new IsoMessage("0200").Set(IsoFields.AdditionalData, AdditionalData.Build((AdditionalData.Cvv2, "987")));

        Assert.DoesNotContain("987", message.ToString(), StringComparison.Ordinal);
    }
}
