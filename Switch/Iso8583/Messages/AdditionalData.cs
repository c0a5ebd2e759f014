using System.Globalization;

namespace Mesh.Iso8583.Messages;

/// <summary>
/// Field 48 (additional data, private) as Mesh's dialect uses it: tagged elements, each a
/// three-character tag, a two-digit length and the value (<c>CV203123</c>, <c>OTP06123456</c>).
/// The card's CVV2 and the cardholder's one-time code travel here: both are secrets, so the field is
/// never journalled, logged or put on a span (<see cref="IsoMessage.ToString"/> shows field numbers
/// only), and the gateway never stores a request that still carries it.
/// </summary>
public static class AdditionalData
{
    /// <summary>The card's CVV2 (three digits), checked by the issuer in its Hsm.</summary>
    public const string Cvv2 = "CV2";

    /// <summary>The one-time code the issuer sent the cardholder (six digits), on the purchase sent again after a <c>1A</c>.</summary>
    public const string OneTimeCode = "OTP";

    public const int ElementsMax = 8;
    public const int ValueCharsMax = 99;

    /// <summary>The field's text for the given elements, in order.</summary>
    public static string Build(params (string Tag, string Value)[] elements)
    {
        Safety.Holds(elements.Length <= ElementsMax, "at most 8 elements");
        return string.Concat(elements.Select(e =>
        {
            Safety.Holds(e.Tag.Length == 3 && e.Value.Length <= ValueCharsMax, "a tag is three characters and a value at most 99");
            return e.Tag + e.Value.Length.ToString("D2", CultureInfo.InvariantCulture) + e.Value;
        }));
    }

    /// <summary>The field's elements by tag; null when the text is not a well-formed list of elements (or repeats a tag).</summary>
    public static IReadOnlyDictionary<string, string>? Parse(string? text)
    {
        var elements = new Dictionary<string, string>(StringComparer.Ordinal);
        var at = 0;
        while (text is not null && at < text.Length)
        {
            if (elements.Count == ElementsMax || at + 5 > text.Length || !char.IsAsciiDigit(text[at + 3]) || !char.IsAsciiDigit(text[at + 4]))
            {
                return null;
            }
            var length = (text[at + 3] - '0') * 10 + (text[at + 4] - '0');
            if (at + 5 + length > text.Length || !elements.TryAdd(text.Substring(at, 3), text.Substring(at + 5, length)))
            {
                return null;
            }
            at += 5 + length;
        }
        return elements;
    }
}
