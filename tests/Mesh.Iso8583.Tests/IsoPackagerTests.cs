using System.Text;
using CsCheck;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Iso8583.Tests;

public class IsoPackagerTests
{
    private static readonly IsoPackager Packager = new(IsoDialect.UnionPay1987);

    private static IsoMessage Echo() => new IsoMessage("0800")
        .Set(IsoFields.TransmissionDateTime, "1126093015")
        .Set(IsoFields.Stan, "000001")
        .Set(IsoFields.NetworkManagementCode, "301");

    [Fact]
    public void Pack_Echo_GivesTheBytesOfTheMeshWireDialect()
    {
        var packed = Packager.Pack(Echo());

        byte[] expected =
        [
            .. "0800"u8,
            0x82, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // bits 1 (secondary bitmap), 7, 11
            0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // bit 70
            .. "1126093015"u8, .. "000001"u8, .. "301"u8,
        ];
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(packed));
    }

    [Fact]
    public void Pack_VariableAndBinaryFields_WritesAsciiLengthPrefixesAndRawBytes()
    {
        var message = new IsoMessage("0200")
            .Set(IsoFields.Pan, "6222021234567890123")
            .Set(IsoFields.Stan, "123456")
            .Set(IsoFields.AdditionalData, "AB")
            .SetBinary(IsoFields.PinBlock, [0x04, 0x12, 0x77, 0xCD, 0xDE, 0xEF, 0xF6, 0x69]);

        var packed = Packager.Pack(message);

        var body = packed.AsSpan(4 + 8);
        Assert.Equal("196222021234567890123123456002AB", Encoding.ASCII.GetString(body[..32]));
        Assert.Equal("041277CDDEEFF669", Convert.ToHexString(body[32..]));
    }

    [Fact]
    public void Unpack_OfPack_GivesTheSameMessage_ForAnyMessageOfTheDialect()
    {
        GenMessage.SampleSeeded(message =>
        {
            var result = Packager.Unpack(Packager.Pack(message));
            return result.Ok && result.Message!.ContentEquals(message);
        }, iter: 2_000);
    }

    [Theory]
    [InlineData(IsoFields.Stan, "12345", "field 11: length 5, expected 6")]
    [InlineData(IsoFields.Stan, "12345A", "field 11: non-digit at position 6 of a numeric field")]
    [InlineData(IsoFields.Pan, "62220212345678901234", "field 2: length 20 exceeds the maximum 19")]
    [InlineData(IsoFields.TerminalId, "TERM\u00e901", "field 41: non-ASCII character at position 5")]
    [InlineData(IsoFields.TerminalId, "TERM\u0009001", "field 41: non-printable byte at position 5")]
    public void Pack_InvalidField_NamesTheFieldInTheError(int field, string value, string expected)
    {
        var error = Assert.Throws<IsoFormatException>(() => Packager.Pack(Echo().Set(field, value)));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Pack_FieldTheDialectDoesNotDefine_IsAFormatError()
    {
        var error = Assert.Throws<IsoFormatException>(() => Packager.Pack(Echo().Set(5, "000000000100")));
        Assert.Equal(5, error.Error.Field);
    }

    public static TheoryData<string, byte[], int> Malformed()
    {
        var echo = Packager.Pack(Echo());
        var letters = (byte[])echo.Clone();
        letters[^1] = (byte)'X'; // field 70 is numeric
        var badBitmap = (byte[])echo.Clone();
        badBitmap[4] |= 0x08; // bit 5: not in the dialect
        var pan = Packager.Pack(new IsoMessage("0200").Set(IsoFields.Pan, "6222021234567890").Set(IsoFields.Stan, "000002"));
        var overflow = (byte[])pan.Clone();
        overflow[12] = (byte)'9'; overflow[13] = (byte)'9'; // LLVAR length 99 > 19
        var nonDigitLength = (byte[])pan.Clone();
        nonDigitLength[12] = (byte)'A';
        return new TheoryData<string, byte[], int>
        {
            { "empty", [], 0 },
            { "only an MTI", "0800"u8.ToArray(), 0 },
            { "MTI with letters", [.. "08A0"u8, .. echo[4..]], 0 },
            { "secondary bitmap cut off", echo[..14], 1 },
            { "no data elements", [.. "0800"u8, 0, 0, 0, 0, 0, 0, 0, 0], 1 },
            { "truncated inside field 70", echo[..^1], 70 },
            { "letters in a numeric field", letters, 70 },
            { "bit of an undefined field", badBitmap, 5 },
            { "trailing bytes", [.. echo, 0x30], 0 },
            { "LLVAR length beyond the maximum", overflow, 2 },
            { "LLVAR length not digits", nonDigitLength, 2 },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Unpack_MalformedBytes_GivesAFormatErrorForTheRightField(string what, byte[] bytes, int field)
    {
        var result = Packager.Unpack(bytes);

        Assert.False(result.Ok, what);
        Assert.Equal(field, result.Error!.Field);
    }

    [Fact]
    public void Unpack_MutatedMessages_GiveWhatTheBytesHold_OrTheFormatErrorWhereTheyGoWrong()
    {
        var original = Echo().Set(IsoFields.Pan, "6222021234567890").Set(IsoFields.AdditionalData, "hello");
        var valid = Packager.Pack(original);
        // Where each data element of the valid message ends (after the MTI and both bitmaps): a prefix of it is cut in that element.
        var ends = new List<(int Field, int End)>();
        var end = 4 + 16;
        foreach (var number in original.Fields())
        {
            var spec = IsoDialect.UnionPay1987[number]!;
            end += (spec.Length switch { LengthKind.LlVar => 2, LengthKind.LllVar => 3, _ => 0 }) + original.GetBytes(number)!.Value.Length;
            ends.Add((number, end));
        }
        Assert.Equal(valid.Length, end);

        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, valid.Length]).SampleSeeded((at, value, cut) =>
        {
            var mutated = (byte[])valid.Clone();
            mutated[at] = value;
            var input = mutated.AsSpan(0, cut).ToArray();
            var result = Packager.Unpack(input);
            if (at >= cut || value == valid[at])
            {
                // The valid message's own bytes: all of them are the original message; fewer are cut short, in the MTI and primary
                // bitmap (0), the secondary bitmap (1) or the first element that ends after the cut.
                return cut == valid.Length
                    ? result.Ok && result.Message!.ContentEquals(original)
                    : !result.Ok && result.Error!.Field == (cut < 12 ? 0 : cut < 20 ? 1 : ends.First(e => e.End > cut).Field) && AsTheBytesSay(input, result);
            }
            return AsTheBytesSay(input, result);
        }, iter: 5_000);
    }

    /// <summary>
    /// What unpacking any bytes must give. A message: exactly what the bytes hold, so that packing it gives them back (less an
    /// all-zero secondary bitmap, which packing leaves out). Otherwise no message but a format error in the framing or MTI (0), a
    /// bitmap (1) or an element the bitmap announces; once the MTI is read, what was read before the error is kept: elements the
    /// bitmap announces, before the one in error, as the bytes hold them.
    /// </summary>
    private static bool AsTheBytesSay(byte[] input, IsoUnpackResult result)
    {
        if (result.Ok)
        {
            return result.Message is { } message && result.Partial is null
                && Packager.Pack(message).AsSpan().SequenceEqual(WithoutAnEmptySecondaryBitmap(input));
        }
        if (result.Message is not null || result.Error is not { Field: >= 0 and <= IsoMessage.FieldNumberMax, Reason.Length: > 0 } error)
        {
            return false;
        }
        if (input.Length < 12 || input.Take(4).Any(b => b is < (byte)'0' or > (byte)'9'))
        {
            return error.Field == 0 && result.Partial is null;
        }
        if (result.Partial is not { } partial || partial.Mti != Encoding.ASCII.GetString(input, 0, 4))
        {
            return false;
        }
        if (error.Field == 1)
        {
            return !partial.Fields().Any();
        }
        if ((error.Field >= 2 && !Announced(input, error.Field)) || partial.Fields().Any(f => !Announced(input, f) || (error.Field >= 2 && f >= error.Field)))
        {
            return false;
        }
        var read = Packager.Pack(partial);
        return input.AsSpan(DataStart(input)).StartsWith(read.AsSpan(DataStart(read)));
    }

    /// <summary>Whether the bitmaps (the secondary one only when bit 1 announces it and it is there) have the element's bit.</summary>
    private static bool Announced(byte[] input, int number) =>
        number is >= 2 and <= IsoMessage.FieldNumberMax
        && (number <= 64 || ((input[4] & 0x80) != 0 && input.Length >= 20))
        && (input[4 + ((number - 1) / 8)] & (0x80 >> ((number - 1) % 8))) != 0;

    /// <summary>Where the data elements start: after the MTI and one bitmap, or two when bit 1 is set.</summary>
    private static int DataStart(byte[] bytes) => 4 + ((bytes[4] & 0x80) != 0 ? 16 : 8);

    private static byte[] WithoutAnEmptySecondaryBitmap(byte[] input) =>
        input.Length >= 20 && (input[4] & 0x80) != 0 && !input.AsSpan(12, 8).ContainsAnyExcept((byte)0)
            ? [.. input[..4], (byte)(input[4] & 0x7F), .. input[5..12], .. input[20..]]
            : input;

    [Fact]
    public void Unpack_MoreThanTheMessageLimit_IsRefused()
    {
        var result = Packager.Unpack(new byte[IsoPackager.MessageBytesMax + 1]);
        Assert.Contains("exceed the limit", result.Error!.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0800", "0810")]
    [InlineData("0200", "0210")]
    [InlineData("0420", "0430")]
    [InlineData("0421", "0430")]
    [InlineData("0100", "0110")]
    public void ResponseMti_IsTheAnswerToTheRequest(string request, string response) =>
        Assert.Equal(response, IsoMessage.ResponseMti(request));

    [Fact]
    public void ToString_ShowsFieldNumbersButNoContent()
    {
        var message = Echo().Set(IsoFields.Pan, "6222021234567890");
        var text = message.ToString();
        Assert.Equal("0800 [2,7,11,70]", text);
        Assert.DoesNotContain("6222", text, StringComparison.Ordinal);
    }

    private static readonly string[] Mtis = ["0100", "0110", "0200", "0210", "0420", "0430", "0800", "0810"];

    /// <summary>Messages with a random MTI and a random valid value in a random set of the dialect's fields.</summary>
    private static readonly Gen<IsoMessage> GenMessage =
        Gen.Select(
            Gen.Int[0, Mtis.Length - 1].Select(i => Mtis[i]),
            Gen.Int[2, IsoMessage.FieldNumberMax].HashSet[1, 20],
            Gen.Int)
        .Select((mti, fields, seed) =>
        {
            var random = new Random(seed);
            var message = new IsoMessage(mti);
            foreach (var number in fields)
            {
                if (IsoDialect.UnionPay1987[number] is { } spec)
                {
                    SetRandom(message, spec, random);
                }
            }
            if (!message.Fields().Any())
            {
                message.Set(IsoFields.Stan, "000001");
            }
            return message;
        });

    private static void SetRandom(IsoMessage message, FieldSpec spec, Random random)
    {
        var length = spec.Length == LengthKind.Fixed ? spec.LengthMax : random.Next(0, spec.LengthMax + 1);
        switch (spec.Format)
        {
            case FieldFormat.Binary:
                var bytes = new byte[length];
                random.NextBytes(bytes);
                message.SetBinary(spec.Number, bytes);
                break;
            case FieldFormat.Numeric:
                message.Set(spec.Number, new string([.. Enumerable.Range(0, length).Select(_ => (char)('0' + random.Next(10)))]));
                break;
            default:
                message.Set(spec.Number, new string([.. Enumerable.Range(0, length).Select(_ => (char)random.Next(0x20, 0x7F))]));
                break;
        }
    }
}

public class PanTests
{
    [Theory]
    [InlineData("622202000000001", '5')]
    [InlineData("621700000000001", '4')]
    [InlineData("411111111111111", '1')]
    public void LuhnCheckDigit_MakesAValidCardNumber(string body, char expected)
    {
        Assert.Equal(expected, Pan.LuhnCheckDigit(body));
        Assert.True(Pan.LuhnValid(body + expected));
        Assert.False(Pan.LuhnValid(body + (char)('0' + ((expected - '0' + 1) % 10))));
    }

    [Fact]
    public void Pan_ShowsItselfMasked_AndParsesOnlyLuhnValidNumbers()
    {
        Assert.True(Pan.TryParse("4111111111111111", out var pan));
        Assert.Equal("411111******1111", pan.ToString());
        Assert.Equal("4111111111111111", pan.Reveal());
        Assert.False(Pan.TryParse("4111111111111112", out _));
        Assert.False(Pan.TryParse("41111111", out _));
    }
}
