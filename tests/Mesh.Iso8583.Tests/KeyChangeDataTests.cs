using CsCheck;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Iso8583.Tests;

/// <summary>Field 48 of a key change (0800/101): what is formatted reads back through the packager, and anything else is refused whole.</summary>
public sealed class KeyChangeDataTests
{
    private const string Block = "D0112P0TB00E00009A0C53B6D35AD7ED9A7A27B4E93A5EC0F4CF4A2A7B0D2A2A3E9B2F7D1E0C9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F1A0";

    private static readonly Gen<KeyChangeData> Changes =
        Gen.Select(Gen.Bool.Select(zpk => zpk ? KeyChangeData.Zpk : KeyChangeData.Zak), Gen.Char["0123456789ABCDEF"].Array[6], Gen.Int[0, KeyChangeData.GraceSecondsMax],
            Gen.OneOf(
                Gen.Char["0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"].Array[1, KeyChangeData.KeyBlockCharsMax].Select(c => (KeyChangeData.KeyBlockStep, new string(c))),
                Gen.Char["0123456789ABCDEF"].Array[KeyChangeData.CryptogramChars].Select(c => (KeyChangeData.CryptogramStep, new string(c))),
                Gen.Const((KeyChangeData.ActivateStep, ""))),
            (key, kcv, grace, step) => new KeyChangeData(key, new string(kcv), grace, step.Item1, step.Item2));

    [Fact]
    public void AnyKeyChange_ReadsBack_ThroughThePackager()
    {
        var packager = new IsoPackager(IsoDialect.UnionPay1987);
        Changes.SampleSeeded(change =>
        {
            var message = new IsoMessage("0800").Set(IsoFields.Stan, "000001").Set(IsoFields.NetworkManagementCode, NetworkManagementCodes.KeyChange)
                .Set(IsoFields.AdditionalData, change.Format());
            var unpacked = packager.Unpack(packager.Pack(message));
            return KeyChangeData.Parse(unpacked.Message!.GetString(IsoFields.AdditionalData)) == change;
        }, iter: 100);
    }

    [Fact]
    public void TheLayout_IsKeyCheckValueGraceStepThenTheKey()
    {
        var text = new KeyChangeData(KeyChangeData.Zak, "08D7B4", 300, KeyChangeData.KeyBlockStep, Block).Format();

        Assert.Equal("ZAK08D7B400300K" + Block, text);
        Assert.Equal("ZPK08D7B4", KeyChangeData.Answer(KeyChangeData.Zpk, "08D7B4"));
        Assert.Equal("08D7B4", KeyChangeData.CheckValueAnswered("ZPK08D7B4", KeyChangeData.Zpk));
        Assert.Null(KeyChangeData.CheckValueAnswered("ZAK08D7B4", KeyChangeData.Zpk));
    }

    [Theory]
    [InlineData("ZMK08D7B400300A")]                // not a zone key
    [InlineData("ZPK08d7b400300A")]                // lowercase check value
    [InlineData("ZPK08D7B486401A")]                // grace above a day
    [InlineData("ZPK08D7B400300AFF")]              // activation carries no key
    [InlineData("ZPK08D7B400300K")]                // a key block step without its block
    [InlineData("ZPK08D7B400300C0123")]            // a cryptogram of the wrong length
    [InlineData("ZPK08D7B400300X")]                // no such step
    [InlineData("ZPK08D7B4")]                      // too short
    public void AMalformedKeyChange_IsRefusedWhole(string text) => Assert.Null(KeyChangeData.Parse(text));
}
