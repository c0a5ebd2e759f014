using System.Buffers.Binary;
using Mesh.Iso8583.Messages;

namespace Mesh.Iso8583.Packaging;

/// <summary>The result of unpacking: a message, or the first format error and whatever was read before it.</summary>
public readonly record struct IsoUnpackResult(IsoMessage? Message, IsoFormatError? Error, IsoMessage? Partial)
{
    public bool Ok => Error is null;
}

/// <summary>
/// Encodes and decodes messages of one dialect: MTI as 4 ASCII digits, binary primary and
/// secondary bitmaps, ASCII numeric and alphanumeric content with ASCII length prefixes, raw binary.
/// Every field is validated both ways; malformed bytes give an <see cref="IsoFormatError"/>, never an exception.
/// </summary>
public sealed class IsoPackager(IsoDialect dialect)
{
    /// <summary>Largest message Mesh packs or accepts (the 2-byte frame allows 65,535).</summary>
    public const int MessageBytesMax = 8192;
    private const int MtiBytes = 4;
    private const int BitmapBytes = 8;

    public IsoDialect Dialect { get; } = dialect;

    public byte[] Pack(IsoMessage message)
    {
        if (ValidateMti(message.Mti) is { } mtiError)
        {
            throw new IsoFormatException(new IsoFormatError(0, mtiError));
        }
        Span<byte> bitmap = stackalloc byte[BitmapBytes * 2];
        bitmap.Clear();
        var contentBytes = 0;
        for (var number = 2; number <= IsoMessage.FieldNumberMax; number++)
        {
            if (message.Raw(number) is not { } content)
            {
                continue;
            }
            var spec = Dialect[number] ?? throw new IsoFormatException(new IsoFormatError(number, $"not defined in dialect {Dialect.Name}"));
            if (Validate(spec, content) is { } reason)
            {
                throw new IsoFormatException(new IsoFormatError(number, reason));
            }
            contentBytes += PrefixBytes(spec.Length) + content.Length;
            bitmap[(number - 1) / 8] |= (byte)(0x80 >> ((number - 1) % 8));
        }
        var secondary = bitmap[BitmapBytes..].ContainsAnyExcept((byte)0);
        if (secondary)
        {
            bitmap[0] |= 0x80;
        }
        var bitmapLength = secondary ? 2 * BitmapBytes : BitmapBytes;
        var size = MtiBytes + bitmapLength + contentBytes;
        if (size > MessageBytesMax)
        {
            throw new IsoFormatException(new IsoFormatError(0, $"{size} bytes exceed the limit of {MessageBytesMax}"));
        }

        var output = new byte[size];
        var at = System.Text.Encoding.ASCII.GetBytes(message.Mti, output);
        bitmap[..bitmapLength].CopyTo(output.AsSpan(at));
        at += bitmapLength;
        for (var number = 2; number <= IsoMessage.FieldNumberMax; number++)
        {
            if (message.Raw(number) is not { } content)
            {
                continue;
            }
            at += WritePrefix(Dialect[number]!.Length, content.Length, output.AsSpan(at));
            content.CopyTo(output, at);
            at += content.Length;
        }
        Safety.Holds(at == size, "packed length matches the computed size");
        return output;
    }

    public IsoUnpackResult Unpack(ReadOnlySpan<byte> data)
    {
        if (data.Length > MessageBytesMax)
        {
            return Fail(0, $"{data.Length} bytes exceed the limit of {MessageBytesMax}", null);
        }
        if (data.Length < MtiBytes + BitmapBytes)
        {
            return Fail(0, $"truncated: {data.Length} bytes cannot hold an MTI and a bitmap", null);
        }
        var mti = System.Text.Encoding.ASCII.GetString(data[..MtiBytes]);
        if (ValidateMti(mti) is { } mtiError)
        {
            return Fail(0, mtiError, null);
        }
        var message = new IsoMessage(mti);
        var at = MtiBytes;
        var primary = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(at, BitmapBytes));
        at += BitmapBytes;
        ulong secondary = 0;
        if ((primary & 0x8000_0000_0000_0000UL) != 0)
        {
            if (data.Length < at + BitmapBytes)
            {
                return Fail(1, "truncated: secondary bitmap announced but missing", message);
            }
            secondary = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(at, BitmapBytes));
            at += BitmapBytes;
        }
        if ((primary & ~0x8000_0000_0000_0000UL) == 0 && secondary == 0)
        {
            return Fail(1, "no data elements", message);
        }

        for (var number = 2; number <= IsoMessage.FieldNumberMax; number++)
        {
            var bits = number <= 64 ? primary : secondary;
            var bit = number <= 64 ? number : number - 64;
            if ((bits & (1UL << (64 - bit))) == 0)
            {
                continue;
            }
            var spec = Dialect[number];
            if (spec is null)
            {
                return Fail(number, $"present in the bitmap but not defined in dialect {Dialect.Name}", message);
            }
            var length = spec.LengthMax;
            if (spec.Length != LengthKind.Fixed)
            {
                var prefix = PrefixBytes(spec.Length);
                if (data.Length < at + prefix)
                {
                    return Fail(number, "truncated in its length prefix", message);
                }
                if (!TryParseDigits(data.Slice(at, prefix), out length))
                {
                    return Fail(number, "length prefix is not digits", message);
                }
                if (length > spec.LengthMax)
                {
                    return Fail(number, $"length {length} exceeds the maximum {spec.LengthMax}", message);
                }
                at += prefix;
            }
            if (data.Length < at + length)
            {
                return Fail(number, $"truncated: {length} bytes announced, {data.Length - at} left", message);
            }
            var content = data.Slice(at, length);
            if (Validate(spec, content) is { } reason)
            {
                return Fail(number, reason, message);
            }
            message.SetRaw(number, content.ToArray());
            at += length;
        }
        if (at != data.Length)
        {
            return Fail(0, $"{data.Length - at} bytes after the last data element", message);
        }
        return new IsoUnpackResult(message, null, null);
    }

    private static IsoUnpackResult Fail(int field, string reason, IsoMessage? partial) =>
        new(null, new IsoFormatError(field, reason), partial);

    private static string? ValidateMti(string mti) =>
        mti.Length == MtiBytes && mti.All(char.IsAsciiDigit) ? null : "MTI is not four digits";

    /// <summary>Why the content does not fit the spec, or null when it does.</summary>
    private static string? Validate(FieldSpec spec, ReadOnlySpan<byte> content)
    {
        if (spec.Length == LengthKind.Fixed ? content.Length != spec.LengthMax : content.Length > spec.LengthMax)
        {
            return spec.Length == LengthKind.Fixed
                ? $"length {content.Length}, expected {spec.LengthMax}"
                : $"length {content.Length} exceeds the maximum {spec.LengthMax}";
        }
        switch (spec.Format)
        {
            case FieldFormat.Numeric:
                for (var i = 0; i < content.Length; i++)
                {
                    if (content[i] is < (byte)'0' or > (byte)'9')
                    {
                        return $"non-digit at position {i + 1} of a numeric field";
                    }
                }
                break;
            case FieldFormat.Alphanumeric:
                for (var i = 0; i < content.Length; i++)
                {
                    if (content[i] is < 0x20 or > 0x7E)
                    {
                        return $"non-printable byte at position {i + 1}";
                    }
                }
                break;
            case FieldFormat.Binary:
                break;
        }
        return null;
    }

    private static int PrefixBytes(LengthKind kind) => kind switch
    {
        LengthKind.LlVar => 2,
        LengthKind.LllVar => 3,
        _ => 0,
    };

    private static int WritePrefix(LengthKind kind, int length, Span<byte> output)
    {
        var digits = PrefixBytes(kind);
        for (var i = digits - 1; i >= 0; i--)
        {
            output[i] = (byte)('0' + (length % 10));
            length /= 10;
        }
        return digits;
    }

    private static bool TryParseDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            value = (value * 10) + (b - '0');
        }
        return true;
    }
}
