using System.Text;

namespace Mesh.Iso8583.Messages;

/// <summary>
/// An ISO 8583 message: MTI and data elements 2–128, held as the bytes of their content
/// (ASCII for numeric and alphanumeric fields, raw for binary ones). It knows no dialect:
/// the <see cref="Packaging.IsoPackager"/> validates and encodes.
/// </summary>
public sealed class IsoMessage
{
    public const int FieldNumberMax = 128;
    private readonly byte[]?[] _fields = new byte[]?[FieldNumberMax + 1];

    public IsoMessage(string mti)
    {
        Mti = mti;
    }

    /// <summary>Message type indicator: four ASCII digits, e.g. <c>0800</c>.</summary>
    public string Mti { get; set; }

    public bool Has(int field) => _fields[CheckNumber(field)] is not null;

    /// <summary>Sets a text field. Only ASCII fits the wire: anything else is a format error, not a silent '?'.</summary>
    public IsoMessage Set(int field, string value)
    {
        CheckNumber(field);
        for (var i = 0; i < value.Length; i++)
        {
            if (!char.IsAscii(value[i]))
            {
                throw new Packaging.IsoFormatException(new Packaging.IsoFormatError(field, $"non-ASCII character at position {i + 1}"));
            }
        }
        _fields[field] = Encoding.ASCII.GetBytes(value);
        return this;
    }

    public IsoMessage SetBinary(int field, ReadOnlySpan<byte> value)
    {
        _fields[CheckNumber(field)] = value.ToArray();
        return this;
    }

    public IsoMessage Remove(int field)
    {
        _fields[CheckNumber(field)] = null;
        return this;
    }

    /// <summary>A copy of the message: changing either leaves the other as it was.</summary>
    public IsoMessage Clone()
    {
        var copy = new IsoMessage(Mti);
        for (var i = 2; i <= FieldNumberMax; i++)
        {
            copy._fields[i] = _fields[i]?.ToArray();
        }
        return copy;
    }

    public string? GetString(int field) => _fields[CheckNumber(field)] is { } raw ? Encoding.ASCII.GetString(raw) : null;

    /// <summary>The field's raw bytes, or null when it is absent (never an empty value in its place).</summary>
    public ReadOnlyMemory<byte>? GetBytes(int field) => _fields[CheckNumber(field)] is { } raw ? new ReadOnlyMemory<byte>(raw) : (ReadOnlyMemory<byte>?)null;

    /// <summary>The packager's view: the content of a field or null, without range checks or copies.</summary>
    internal byte[]? Raw(int field) => _fields[field];

    /// <summary>The packager's unpacking: takes ownership of <paramref name="content"/>.</summary>
    internal void SetRaw(int field, byte[] content) => _fields[field] = content;

    /// <summary>Present data elements in ascending order (field 1, the secondary bitmap, is implied).</summary>
    public IEnumerable<int> Fields()
    {
        for (var i = 2; i <= FieldNumberMax; i++)
        {
            if (_fields[i] is not null)
            {
                yield return i;
            }
        }
    }

    /// <summary>
    /// The answer's MTI: the function digit becomes a response and the origin digit is dropped
    /// (0800 → 0810, 0200 → 0210, 0421 → 0430).
    /// </summary>
    public static string ResponseMti(string requestMti)
    {
        if (requestMti.Length != 4 || !requestMti.All(char.IsAsciiDigit))
        {
            throw new ArgumentException($"'{requestMti}' is not an MTI", nameof(requestMti));
        }
        var function = requestMti[2] - '0';
        return string.Concat(requestMti.AsSpan(0, 2), ((char)('0' + (function | 1))).ToString(), "0");
    }

    /// <summary>The answer to <paramref name="request"/>: its response MTI, the echoed fields it has, and field 39.</summary>
    public static IsoMessage AnswerTo(IsoMessage request, string responseCode, ReadOnlySpan<int> echoedFields)
    {
        var answer = new IsoMessage(ResponseMti(request.Mti));
        foreach (var field in echoedFields)
        {
            if (request._fields[CheckNumber(field)] is { } content)
            {
                answer._fields[field] = content;
            }
        }
        answer.Set(IsoFields.ResponseCode, responseCode);
        return answer;
    }

    /// <summary>Structural equality: same MTI and the same bytes in the same fields.</summary>
    public bool ContentEquals(IsoMessage other)
    {
        if (Mti != other.Mti)
        {
            return false;
        }
        for (var i = 2; i <= FieldNumberMax; i++)
        {
            var a = _fields[i];
            var b = other._fields[i];
            if (a is null != b is null || (a is not null && !a.AsSpan().SequenceEqual(b)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Field numbers and lengths only: message content may hold a PAN or a PIN block.</summary>
    public override string ToString() =>
        $"{Mti} [{string.Join(',', Fields().Select(f => f.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";

    private static int CheckNumber(int field) =>
        field is >= 2 and <= FieldNumberMax
            ? field
            : throw new ArgumentOutOfRangeException(nameof(field), field, "Data elements are numbered 2 to 128");
}
